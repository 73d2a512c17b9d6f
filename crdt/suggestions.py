"""Suggestions ("track changes") in the document's text, and the rules for them.

A suggestion is a run of text carrying one of two formatting attributes (Tiptap marks, kept by
y-tiptap as attributes of the paragraph's XmlText):

* ``suggestInsert``: text proposed for insertion; it is not part of the text until accepted;
* ``suggestDelete``: text proposed for deletion; it stays part of the text until accepted.

Both have the value ``{"id": <suggestion id>, "author": <account id>, "at": <ms since epoch>}``.
One id may mark several runs (a word typed in pieces); a replacement is a deletion and an
insertion with the same id. Pending suggestions never change the text "as it stands": that is
the text with every insertion left out and every deletion kept (`rejected`).

What a commenter may change in the text (`check_commenter`): nothing of the text as it stands
(its characters and formatting, pending insertions left out) and nobody else's suggestions;
every suggestion mark they write names them. So they insert text only as their own insertion,
delete only text of their own pending insertions, mark text as their own deletion or unmark
their own deletion, and format only their own insertions; no paragraphs, nodes or attributes. Editors and the owner may do anything; they
accept (insertion: the mark goes; deletion: the text goes) and reject (the reverse).

Indexes are UTF-8 bytes, as pycrdt's XmlText counts them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pycrdt import Doc, XmlFragment, XmlText

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


def _texts(doc: Doc[Any]) -> Iterator[XmlText]:
    """Every XmlText of the document, in document order (iterative)."""
    stack: list[Any] = [doc.get(FRAGMENT, type=XmlFragment)]
    while stack:
        node = stack.pop()
        if isinstance(node, XmlText):
            yield node
            continue
        stack.extend(reversed(list(node.children)))


def runs(text: XmlText) -> list[tuple[str, dict[str, Any]]]:
    """The text's runs with their attributes (embeds left out)."""
    return [(piece, attrs or {}) for piece, attrs in text.diff() if isinstance(piece, str)]


def rejected(doc: Doc[Any]) -> str:
    """The text as it stands: every pending insertion left out (one line per text block)."""
    return "\n".join("".join(piece for piece, attrs in runs(text) if INSERT not in attrs)
                     for text in _texts(doc))


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
    for text in _texts(doc):
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
        for text in list(_texts(doc)):
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
        for text in list(_texts(doc)):
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


def _canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _standing(text: XmlText) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """The text as it stands, with its formatting: runs without a pending insertion, each with
    its attributes other than suggestions and comment highlights, adjacent alike runs merged."""
    out: list[tuple[str, tuple[tuple[str, str], ...]]] = []
    for piece, attrs in runs(text):
        if attrs.get(INSERT) is not None:
            continue
        key = tuple(sorted((k, _canon(v)) for k, v in attrs.items()
                           if v is not None and k not in KEYS and not k.startswith("comment--")))
        if out and out[-1][1] == key:
            out[-1] = (out[-1][0] + piece, key)
        elif piece:
            out.append((piece, key))
    return out


def _others(text: XmlText, who: str) -> list[tuple[str, str, Any, str]]:
    """Everyone else's suggestions in the text: (kind, id, author, text), runs merged."""
    out: list[tuple[str, str, Any, str]] = []
    for piece, attrs in runs(text):
        for key in KEYS:
            value = attrs.get(key)
            if value is None or (isinstance(value, dict) and value.get("author") == who):
                continue
            entry = (key, _canon(value.get("id") if isinstance(value, dict) else value),
                     value.get("author") if isinstance(value, dict) else None)
            if out and out[-1][:3] == entry:
                out[-1] = (*entry, out[-1][3] + piece)
            else:
                out.append((*entry, piece))
    return out


def check_commenter(events: list[Any], before: Doc[Any], who: str) -> None:
    """Raise NotASuggestion unless the changes `events` describe (a deep observer's events of
    the text, seen on a copy that took the update) leave the text as it stands (characters and
    formatting) and everyone else's suggestions as they are in `before` (the document without
    the update), and every suggestion mark they write names `who`.

    Which character is which does not matter, only what the text reads: y-tiptap writes an
    edit as a diff of the paragraph, which may put a new mark on an equal character beside the
    one typed (typing a space after "Our" in "Our server" marks the old space and inserts a
    plain one)."""
    fragment = before.get(FRAGMENT, type=XmlFragment)
    for event in events:
        target = event.target
        if not isinstance(target, XmlText):
            raise NotASuggestion("a commenter may suggest changes to the text, not to its "
                                 "paragraphs or their settings")
        if event.keys:
            raise NotASuggestion("a commenter may not change the text's settings")
        for op in event.delta:
            inserted = op.get("insert")
            if inserted is not None and not isinstance(inserted, str):
                raise NotASuggestion("a commenter may suggest text, not other content")
            for key in KEYS:
                value = (op.get("attributes") or {}).get(key)
                if value is not None and (suggestion(value) is None or value.get("author") != who):
                    raise NotASuggestion("a suggestion is made in its author's own name")
        old = _at_path(fragment, event.path)
        if _standing(old) != _standing(target):
            raise NotASuggestion("a commenter's changes to the text are suggestions: the update "
                                 "changes the text as it stands")
        if _others(old, who) != _others(target, who):
            raise NotASuggestion("only its author withdraws a suggestion, and only an editor "
                                 "accepts or rejects one")


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
