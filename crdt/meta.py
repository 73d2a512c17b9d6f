"""Document metadata kept in the Y.Doc (map "meta"), synced live like the text."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Map

log = logging.getLogger("quire.meta")

MAX_TITLE = 500


def meta_map(doc: Doc[Any]) -> Map[Any]:
    meta: Map[Any] = doc.get("meta", type=Map)
    return meta


def get_title(doc: Doc[Any]) -> str | None:
    value = meta_map(doc).get("title")
    return value if isinstance(value, str) else None


def set_title(doc: Doc[Any], title: str) -> None:
    meta_map(doc)["title"] = title[:MAX_TITLE]


def initial_update(title: str) -> bytes:
    """The first update of a new document: its title."""
    doc: Doc[Any] = Doc()
    set_title(doc, title)
    return doc.get_update()


def observe_title(doc: Doc[Any], callback: Callable[[str], None]) -> object:
    """Call `callback(title)` whenever the live title changes (from anyone).

    Keep the returned object as long as the callback should fire (pycrdt drops observers of
    shared types that are garbage-collected)."""
    meta = meta_map(doc)

    def on_change(event: Any) -> None:  # a pycrdt MapEvent (its slots carry no types)
        # Runs inside the transaction: read through the event, never doc.get() (that would
        # try to create a root in a read-only transaction).
        if "title" in event.keys:
            title = event.target.get("title")
            if isinstance(title, str):
                try:
                    callback(title[:MAX_TITLE])
                except Exception:  # a broken hook must not fail the client's update
                    log.exception("title observer failed")

    return (meta, meta.observe(on_change))
