"""Document metadata kept in the Y.Doc (map "meta"), synced live like the text."""

from __future__ import annotations

from collections.abc import Callable

from pycrdt import Doc, Map

MAX_TITLE = 500


def meta_map(doc: Doc) -> Map:
    return doc.get("meta", type=Map)


def get_title(doc: Doc) -> str | None:
    value = meta_map(doc).get("title")
    return value if isinstance(value, str) else None


def set_title(doc: Doc, title: str) -> None:
    meta_map(doc)["title"] = title[:MAX_TITLE]


def initial_update(title: str) -> bytes:
    """The first update of a new document: its title."""
    doc = Doc()
    set_title(doc, title)
    return doc.get_update()


def observe_title(doc: Doc, callback: Callable[[str], None]) -> None:
    """Call `callback(title)` whenever the live title changes (from anyone)."""
    meta = meta_map(doc)

    def on_change(event) -> None:
        if "title" in event.keys:
            title = get_title(doc)
            if title is not None:
                callback(title[:MAX_TITLE])

    meta.observe(on_change)
