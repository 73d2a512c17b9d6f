"""Suggestions ("track changes") in the document's text, and the rules for them.

A suggestion is a run of text carrying one of two formatting attributes (Tiptap marks, kept by
y-tiptap as attributes of the paragraph's XmlText):

* ``suggestInsert``: text proposed for insertion; it is not part of the text until accepted;
* ``suggestDelete``: text proposed for deletion; it stays part of the text until accepted.

Both have the value ``{"id": <suggestion id>, "author": <account id>, "at": <ms since epoch>}``.
One id may mark several runs (a word typed in pieces); a replacement is a deletion and an
insertion with the same id. Pending suggestions never change the text "as it stands": that is
the text with every insertion left out and every deletion kept (`rejected`).

What a commenter may change in the text (`check_commenter`): nothing of the text as it stands;
they add or withdraw suggestions of their own. Concretely, against the text before the update:
insert text only as their own insertion; delete only text of their own pending insertions; mark
text as their own deletion, or unmark their own deletion; any other formatting only of their own
insertions; no paragraphs, no nodes, no attributes. Editors and the owner may do anything; they
accept (insertion: the mark goes; deletion: the text goes) and reject (the reverse).

Indexes are UTF-8 bytes, as pycrdt's XmlText counts them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.plain_text import FRAGMENT

INSERT = "suggestInsert"
DELETE = "suggestDelete"
KEYS = (INSERT, DELETE)
MAX_ID = 64
MAX_PASSAGE = 200


def suggestion(value: Any) -> dict[str, Any] | None:
    """A well-formed suggestion attribute value, or None."""
    if not isinstance(value, dict):
        return None
    sid, author = value.get("id"), value.get("author")
    if not (isinstance(sid, str) and 0 < len(sid) <= MAX_ID):
        return None
    if author is not None and not (isinstance(author, str) and 0 < len(author) <= 100):
        return None
    return value


def _nbytes(text: str) -> int:
    return len(text.encode())


# ---- walking the text -----------------------------------------------------------------------


def _texts(doc: Doc[Any]) -> Iterator[tuple[XmlText, XmlElement | None]]:
    """Every XmlText of the document with the block holding it, in document order."""
    stack: list[tuple[Any, XmlElement | None]] = [(doc.get(FRAGMENT, type=XmlFragment), None)]
    while stack:
        node, block = stack.pop()
        if isinstance(node, XmlText):
            yield node, block
            continue
        children = list(node.children)
        stack.extend((child, node if isinstance(node, XmlElement) else block)
                     for child in reversed(children))


def runs(text: XmlText) -> list[tuple[str, dict[str, Any]]]:
    """The text's runs with their attributes (embeds left out)."""
    return [(piece, attrs or {}) for piece, attrs in text.diff() if isinstance(piece, str)]


def rejected(doc: Doc[Any]) -> str:
    """The text as it stands: every pending insertion left out (one line per text block)."""
    return "\n".join("".join(piece for piece, attrs in runs(text) if INSERT not in attrs)
                     for text, _block in _texts(doc))


# ---- listing ---------------------------------------------------------------------------------


@dataclass
class Suggestion:
    id: str
    author: str | None
    at: float | None
    inserted: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    passage: str = ""

    @property
    def kind(self) -> str:
        if self.inserted and self.deleted:
            return "replace"
        return "insert" if self.inserted else "delete"

    def public(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "author": self.author, "at": self.at,
                "inserted": "".join(self.inserted), "deleted": "".join(self.deleted),
                "passage": self.passage}


def list_suggestions(doc: Doc[Any]) -> list[Suggestion]:
    """Pending suggestions in document order, each with the passage (its block as it would
    read with the suggestion) around it."""
    found: dict[str, Suggestion] = {}
    for text, _block in _texts(doc):
        pieces = runs(text)
        passage = None
        for piece, attrs in pieces:
            for key in KEYS:
                value = suggestion(attrs.get(key))
                if value is None:
                    continue
                entry = found.get(value["id"])
                if entry is None:
                    if passage is None:
                        passage = " ".join("".join(p for p, _ in pieces).split())[:MAX_PASSAGE]
                    at = value.get("at")
                    entry = found[value["id"]] = Suggestion(
                        value["id"], value.get("author"),
                        at if isinstance(at, (int, float)) else None, passage=passage)
                (entry.inserted if key == INSERT else entry.deleted).append(piece)
    return list(found.values())


# ---- deciding --------------------------------------------------------------------------------


def resolve(doc: Doc[Any], *, accept: bool, ids: set[str] | None = None,
            author: str | None = None) -> int:
    """Accept or reject the suggestions `ids` (None: all, or all of `author`) in one
    transaction; how many runs changed."""
    changed = 0
    with doc.transaction():
        for text, _block in list(_texts(doc)):
            edits: list[tuple[int, int, str]] = []  # (start, end, "delete" | key to unmark)
            offset = 0
            for piece, attrs in runs(text):
                size = _nbytes(piece)
                for key in KEYS:
                    value = suggestion(attrs.get(key))
                    if value is None or (ids is not None and value["id"] not in ids) or (
                            author is not None and value.get("author") != author):
                        continue
                    goes = (key == INSERT) != accept  # reject an insertion, accept a deletion
                    edits.append((offset, offset + size, "delete" if goes else key))
                offset += size
            for start, end, what in reversed(edits):
                if what == "delete":
                    del text[start:end]
                else:
                    text.format(start, end, {what: None})
                changed += 1
    return changed


def correct_authors(doc: Doc[Any], ids: set[str], author: str) -> int:
    """Give the suggestions `ids` their true author (the account that sent them)."""
    changed = 0
    with doc.transaction():
        for text, _block in list(_texts(doc)):
            offset = 0
            for piece, attrs in runs(text):
                size = _nbytes(piece)
                for key in KEYS:
                    value = suggestion(attrs.get(key))
                    if value is not None and value["id"] in ids and value.get("author") != author:
                        text.format(offset, offset + size, {key: {**value, "author": author}})
                        changed += 1
                offset += size
    return changed


# ---- what a commenter may change -------------------------------------------------------------


class NotASuggestion(Exception):
    """A commenter's change that is not theirs to make; `reason` is told to them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pieces(segments: list[tuple[int, dict[str, Any]]], start: int, size: int
            ) -> Iterator[dict[str, Any]]:
    """The attributes of the old runs covering bytes [start, start + size)."""
    offset = 0
    end = start + size
    for length, attrs in segments:
        if offset >= end:
            break
        if offset + length > start:
            yield attrs
        offset += length
    if offset < end:
        raise NotASuggestion("the change does not match the text")


def _own(attrs: dict[str, Any], key: str, who: str) -> bool:
    value = suggestion(attrs.get(key))
    return value is not None and value.get("author") == who


def check_commenter(events: list[Any], before: Doc[Any], who: str) -> None:
    """Raise NotASuggestion unless the changes `events` describe (a deep observer's events of
    the text, seen on a copy that took the update) only add or withdraw `who`'s suggestions,
    judged against `before` (the document without the update)."""
    fragment = before.get(FRAGMENT, type=XmlFragment)
    for event in events:
        target = event.target
        if not isinstance(target, XmlText):
            raise NotASuggestion("a commenter may suggest changes to the text, not to its "
                                 "paragraphs or their settings")
        if event.keys:
            raise NotASuggestion("a commenter may not change the text's settings")
        old = _at_path(fragment, event.path)
        segments = [(_nbytes(piece), attrs) for piece, attrs in runs(old)]
        position = 0
        for op in event.delta:
            if "retain" in op:
                size = op["retain"]
                if op.get("attributes"):
                    _check_format(list(_pieces(segments, position, size)), op["attributes"], who)
                position += size
            elif "delete" in op:
                size = op["delete"]
                if not all(_own(attrs, INSERT, who) for attrs in _pieces(segments, position, size)):
                    raise NotASuggestion("a commenter's deletions are suggestions: the update "
                                         "deletes text")
                position += size
            elif "insert" in op:
                inserted = op["insert"]
                attrs = op.get("attributes") or {}
                if not isinstance(inserted, str):
                    raise NotASuggestion("a commenter may suggest text, not other content")
                if not _own(attrs, INSERT, who) or DELETE in attrs:
                    raise NotASuggestion("a commenter's text is a suggestion: the update "
                                         "inserts text that is not their suggestion")


def _check_format(olds: list[dict[str, Any]], changes: dict[str, Any], who: str) -> None:
    for key, value in changes.items():
        if key.startswith("comment--"):
            continue  # comment highlights: judged with the comment data (crdt/judge.py)
        # only runs whose attribute really changes count (Yrs also reports a key set to what
        # the text already has, e.g. `None` after deleting a suggestion next to it)
        changed = [old for old in olds if old.get(key) != value]
        if not changed:
            continue
        if key == DELETE:
            if value is not None and (suggestion(value) is None or value.get("author") != who):
                raise NotASuggestion("a suggestion is made in its author's own name")
            if any(DELETE in old and not _own(old, DELETE, who) for old in changed):
                raise NotASuggestion("only its author withdraws or changes a suggestion")
            continue
        # anything else (accepting an insertion, formatting) only on their own insertions
        if not all(_own(old, INSERT, who) for old in changed):
            raise NotASuggestion("a commenter may only suggest: accepting suggestions and "
                                 "formatting the text are for editors")
        if key == INSERT and (value is None or suggestion(value) is None
                              or value.get("author") != who):
            raise NotASuggestion("only an editor accepts a suggestion")


def _at_path(fragment: XmlFragment, path: list[Any]) -> XmlText:
    node: Any = fragment
    for index in path:
        if not isinstance(index, int) or isinstance(node, XmlText):
            raise NotASuggestion("the change does not match the text")
        children = node.children
        if not 0 <= index < len(children):
            raise NotASuggestion("the change does not match the text")
        node = children[index]
    if not isinstance(node, XmlText):
        raise NotASuggestion("the change does not match the text")
    return node
