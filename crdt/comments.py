"""Comment threads kept in the Y.Doc, anchored to passages of the text by a mark.

This docstring is the contract between the server (this module, pycrdt) and the browser
(Yjs + Tiptap 3 + @tiptap/y-tiptap 3.0.9). Both sides read and write the same shapes.

Thread data — root ``Y.Map "comments"``
=======================================
``comments: Y.Map<threadId, Y.Map>``; each thread is a ``Y.Map`` with these keys::

    id          string      the thread id, equal to its key in "comments"
    createdAt   number      ms since the Unix epoch (a JS number, as from Date.now())
    author      object      plain JSON {name: string, color: "#rrggbb"} (not a Y.Map)
    quote       string      the passage's plain text when the thread was created; shown for a
                            detached thread. Blocks are separated by "\\n".
    resolved    boolean
    resolvedAt  number|null ms epoch of the last resolve, null while open
    resolvedBy  object|null plain JSON {name, color} of who resolved it, null while open
    messages    Y.Array<Y.Map>  in order; the first message is the thread's opening comment

and each message is a ``Y.Map``::

    id          string
    author      object      plain JSON {name, color}
    body        string      plain text exactly as typed (never HTML, never Markdown-rendered):
                            the UI must insert it as text (textContent), never as innerHTML
    createdAt   number      ms epoch
    editedAt    number|null ms epoch of the last edit, null if never edited
    deleted     boolean     a deleted message stays in place as a tombstone with body ""

Writers write every key above; readers treat a missing key as null/false (older or foreign
writers). Ids are strings of 1–64 characters from ``[A-Za-z0-9_-]`` — the server uses
``crypto.randomUUID()``-style UUIDs; the browser should use ``crypto.randomUUID()`` too.
Whole-value replacement (``map.set``) is the only way values change: last writer wins per key,
which is what editing a message or toggling "resolved" wants. Bodies are limited to
:data:`MAX_BODY` (10,000) Unicode code points; the browser can check ``Array.from(body).length``
(``body.length`` counts UTF-16 units, so it is never smaller and is a safe check too). Author
names are 1–100 characters, colours ``#rrggbb``.

Anchoring — the ``comment`` mark in ``XmlFragment "default"``
==============================================================
The passage carries a ProseMirror mark ``comment`` with exactly one attribute,
``threadId: string``. The mark type allows overlapping (``excludes: ""``), so one character can
belong to several threads. y-tiptap stores the marks of such a type as ``XmlText`` formatting
attributes named ``comment--<hash>`` with the mark's attrs as the value::

    "comment--wy0bAhcl": {"threadId": "abc"}

where ``<hash>`` is y-tiptap's ``hashOfJSON(mark.toJSON())``: the SHA-256 of lib0's
``encodeAny({type: "comment", attrs: {threadId}})`` folded to 6 bytes (byte i ^= byte j for every
j >= 6 with j % 6 == i) and base64-encoded (8 characters of ``[A-Za-z0-9+/=]``). :func:`mark_key`
computes exactly that, so a mark the server writes is byte-for-byte what the browser would write
and round-trips through the editor untouched (verified against the real y-tiptap in the tests).
On reading, this module accepts any key ``comment`` or ``comment--`` + 8 such characters whose
value holds a string ``threadId`` — i.e. whatever y-tiptap decodes as a ``comment`` mark.

Why overlapping marks with hashed keys, and not one ``comment`` mark listing thread ids: Yjs
formatting is last-writer-wins per attribute key. With a single key, two reviewers commenting
overlapping passages at the same moment would each write ``comment`` on the shared characters
and one thread would silently lose (part of) its anchor. One key per thread composes: concurrent
threads, and a thread created while someone else types, all survive the merge. The price is the
hash — the server must compute the same key as the browser (done here, tested).

How an anchor behaves (all follow from Yjs formatting semantics and y-tiptap's mapping; each is
tested in tests/crdt/test_comments.py):

* typing inside the passage (locally, or concurrently by someone who has not yet seen the
  thread) extends it; typing just before or just after it does not (the mark is
  ``inclusive: false`` and y-tiptap writes each text run's exact marks);
* splitting the paragraph (Enter) leaves the mark on both halves, joining (Backspace) keeps it:
  the thread then spans several blocks and ``anchor_text`` joins them with "\\n";
* two threads created at the same moment on overlapping passages both keep their anchors;
* deleting part of the passage shrinks the anchor; deleting all of it removes the mark and the
  thread becomes **detached**: its data stays, ``quote`` tells what it was about;
* undo of that deletion (Yjs UndoManager) restores the formatted text and re-attaches it;
* resolving does not touch the marks (reopening shows the highlight again).

Server-side writers note: pycrdt's ``XmlText.insert`` never inherits formatting (it always
passes explicit, empty attributes), unlike Yjs's ``insert``: code that inserts text inside a
passage must pass the attributes it wants.

Reading: :func:`list_threads` walks the fragment the same way
:func:`crdt.markdown.document_text` does (one line per text block, blocks joined by "\\n", hard
breaks as "\\n"); a thread's ``anchor`` is the span of that text from its first to its last marked
character, ``anchor_text`` the text of the span. State: ``resolved`` if resolved, else
``detached`` if no character carries its mark, else ``open``. Marks naming a thread that has no
entry in ``comments`` are ignored (the data may arrive a moment after the mark).

What the browser must do
========================
1. Register this mark in every editor, **before any comment exists in any document**. y-tiptap
   turns a formatting key into a mark with ``schema.mark(name)``; if the schema has no
   ``comment`` mark that throws, and y-tiptap's recovery deletes the whole XmlText — the
   paragraph's text — and syncs the deletion to everybody (checked with y-tiptap 3.0.9)::

    Mark.create({
      name: 'comment', excludes: '', inclusive: false,
      addAttributes () { return { threadId: { default: null,
        parseHTML: el => el.getAttribute('data-thread-id'),
        renderHTML: a => ({ 'data-thread-id': a.threadId }) } } },
      parseHTML () { return [{ tag: 'span[data-thread-id]' }] },
      renderHTML ({ HTMLAttributes }) { return ['span', mergeAttributes({ class: 'comment' },
        HTMLAttributes), 0] },
    })

   Keep the name, ``excludes: ''`` and the single attribute: the key hash covers
   ``{type, attrs}``, so another attribute would make browser and server keys differ.
2. Create a thread: ``id = crypto.randomUUID()``; ``ydoc.transact(() =>
   ydoc.getMap('comments').set(id, thread))`` with ``thread`` a ``Y.Map`` holding the keys above
   (``messages`` a ``Y.Array`` of one ``Y.Map``); then, in the same tick, dispatch
   ``tr.addMark(from, to, schema.marks.comment.create({threadId: id}))`` with
   ``tr.setMeta('addToHistory', false)`` so that Ctrl+Z of the user's typing does not strip the
   comment. Do not wrap the dispatch in the ``ydoc.transact`` (y-tiptap must write the mark in
   its own transaction, origin ``ySyncPluginKey``).
3. Remove one thread's mark with ``tr.removeMark(from, to, mark)`` passing the *Mark instance*;
   ``unsetMark('comment')`` or ``removeMark(from, to, markType)`` removes every thread's mark in
   the range.
4. Find a thread's passage from the ProseMirror document (text nodes whose marks include
   ``comment`` with ``attrs.threadId === id``); never parse the ``comment--`` keys.
5. Replies: ``messages.push([new Y.Map(...)])``; edit: set ``body`` and ``editedAt``; delete:
   set ``deleted: true`` and ``body: ''``; resolve: set ``resolved: true``, ``resolvedAt``,
   ``resolvedBy``; reopen: ``false``, ``null``, ``null`` — each in one ``ydoc.transact``.
6. Show bodies and names as text (``textContent``), never as HTML. Do not highlight resolved
   threads; show a detached thread with its ``quote``.

Errors
======
``CommentError(ValueError)`` — invalid input (empty body, bad author, quote not found, bad range);
its subclasses ``BodyTooLong`` (over :data:`MAX_BODY`) and ``NotFound`` (unknown thread or message).
Functions validate everything before writing, so a refused call changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pycrdt import Array, Doc, Map, XmlElement, XmlFragment, XmlText, write_var_uint

__all__ = [
    "MAX_BODY",
    "BodyTooLong",
    "CommentError",
    "NotFound",
    "add_reply",
    "create_thread",
    "delete_message",
    "delete_thread",
    "edit_message",
    "find_quote",
    "get_thread",
    "list_threads",
    "mark_key",
    "reopen",
    "resolve",
]

COMMENTS = "comments"
FRAGMENT = "default"
MARK = "comment"
MAX_BODY = 10_000
MAX_NAME = 100
_TEXTBLOCKS = frozenset({"paragraph", "heading", "codeBlock"})  # as crdt.markdown
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
_HASHED = re.compile(r"(.*)--[a-zA-Z0-9+/=]{8}")  # y-tiptap's hashedMarkNameRegex

State = Literal["open", "resolved", "detached"]


class CommentError(ValueError):
    """A comment operation was refused; the message says why (shown to API users)."""


class BodyTooLong(CommentError):
    """A message body is longer than MAX_BODY characters."""


class NotFound(CommentError):
    """No such thread or message."""


# ---------------------------------------------------------------------------- mark keys


def _var_string(value: str) -> bytes:
    # pycrdt's Encoder.write_var_string prefixes the code-point count; lib0 (and so the
    # hash) uses the UTF-8 byte count, so non-ASCII ids need this.
    data = value.encode("utf-8")
    return write_var_uint(len(data)) + data


def _encode_any(value: Any) -> bytes:
    """lib0 ``encodeAny`` for the strings and objects of a mark's JSON."""
    # Type tags are below 128, so a var-uint is the single tag byte lib0 writes.
    if isinstance(value, str):
        return write_var_uint(119) + _var_string(value)
    if isinstance(value, Mapping):
        parts = [write_var_uint(118), write_var_uint(len(value))]
        for key, item in value.items():  # JS key order = insertion order
            parts += [_var_string(key), _encode_any(item)]
        return b"".join(parts)
    raise TypeError(f"cannot hash {type(value).__name__}")  # pragma: no cover


def mark_key(thread_id: str) -> str:
    """The XmlText attribute key y-tiptap uses for the ``comment`` mark of this thread."""
    payload = _encode_any({"type": MARK, "attrs": {"threadId": thread_id}})
    digest = bytearray(hashlib.sha256(payload).digest())
    for i in range(6, len(digest)):
        digest[i % 6] ^= digest[i]
    return f"{MARK}--{base64.b64encode(bytes(digest[:6])).decode()}"


def _thread_of(key: str, value: Any) -> str | None:
    """The thread id a formatting attribute anchors, if it is a comment mark."""
    match = _HASHED.fullmatch(key)
    name = match.group(1) if match else key
    if name != MARK or not isinstance(value, Mapping):
        return None
    thread_id = value.get("threadId")
    return thread_id if isinstance(thread_id, str) and thread_id else None


# ---------------------------------------------------------------------------- text walk


@dataclass(slots=True)
class _Run:
    """A chunk of document text: where it is in the plain text and in its XmlText."""

    start: int  # offset in the plain text (code points)
    text: str
    node: XmlText | None  # None for a hard break (not markable)
    index: int  # offset inside `node` in pycrdt units (UTF-8 bytes)
    attrs: dict[str, Any]


def _walk(doc: Doc) -> tuple[str, list[_Run]]:
    """Plain text exactly as crdt.markdown.document_text, plus where each chunk lives."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    lines: list[list[tuple[XmlText | None, int, str, dict[str, Any]]]] = []
    stack: list[XmlFragment | XmlElement] = [fragment]
    while stack:
        node = stack.pop()
        children = list(node.children)
        line: list[tuple[XmlText | None, int, str, dict[str, Any]]] = []
        for child in children:
            if isinstance(child, XmlText):
                index = 0
                for chunk, attrs in child.diff():
                    if isinstance(chunk, str):
                        if chunk:
                            line.append((child, index, chunk, dict(attrs or {})))
                        index += len(chunk.encode("utf-8"))
                    else:
                        index += 1  # an embed
            elif isinstance(child, XmlElement) and child.tag == "hardBreak":
                line.append((None, 0, "\n", {}))
        if line or (isinstance(node, XmlElement) and node.tag in _TEXTBLOCKS):
            lines.append(line)
        else:
            stack.extend(reversed([c for c in children if isinstance(c, XmlElement)]))
    runs: list[_Run] = []
    parts: list[str] = []
    offset = 0
    for number, line in enumerate(lines):
        if number:
            parts.append("\n")
            offset += 1
        for node, index, chunk, attrs in line:
            runs.append(_Run(offset, chunk, node, index, attrs))
            parts.append(chunk)
            offset += len(chunk)
    return "".join(parts), runs


def _anchors(runs: list[_Run]) -> dict[str, tuple[int, int]]:
    """thread id -> (first, last + 1) offsets of the characters carrying its mark."""
    spans: dict[str, tuple[int, int]] = {}
    for run in runs:
        for key, value in run.attrs.items():
            thread_id = _thread_of(key, value)
            if thread_id is None:
                continue
            start, end = run.start, run.start + len(run.text)
            if thread_id in spans:
                first, last = spans[thread_id]
                spans[thread_id] = (min(first, start), max(last, end))
            else:
                spans[thread_id] = (start, end)
    return spans


def _byte_offset(text: str, chars: int) -> int:
    return len(text[:chars].encode("utf-8"))


def _segments(runs: list[_Run], start: int, end: int) -> list[tuple[XmlText, int, int]]:
    """The XmlText ranges (pycrdt units) covering plain-text offsets [start, end)."""
    segments: list[tuple[XmlText, int, int]] = []
    for run in runs:
        if run.node is None:
            continue
        a, b = max(start, run.start), min(end, run.start + len(run.text))
        if a >= b:
            continue
        lo = run.index + _byte_offset(run.text, a - run.start)
        hi = run.index + _byte_offset(run.text, b - run.start)
        if segments and segments[-1][0] is run.node and segments[-1][2] == lo:
            segments[-1] = (run.node, segments[-1][1], hi)
        else:
            segments.append((run.node, lo, hi))
    return segments


def document_text(doc: Doc) -> str:
    """The plain text that comment offsets and quotes refer to (= crdt.markdown's)."""
    return _walk(doc)[0]


def find_quote(text: str, quote: str, occurrence: int = 1) -> tuple[int, int]:
    """Offsets of the `occurrence`-th (1-based) exact occurrence of `quote` in `text`."""
    if not isinstance(quote, str) or not quote:
        raise CommentError("the quote is empty")
    if occurrence < 1:
        raise CommentError("occurrence counts from 1")
    found, at = 0, text.find(quote)
    while at != -1:
        found += 1
        if found == occurrence:
            return at, at + len(quote)
        at = text.find(quote, at + 1)
    if found == 0:
        raise CommentError("the quote does not occur in the document")
    raise CommentError(f"the quote occurs {found} time{'s' * (found != 1)}, "
                       f"not {occurrence}")


# ---------------------------------------------------------------------------- validation


def _now_ms(now: float | None) -> float:
    # Stored as a float so it is a plain JS number (Date.now() shape) on every client.
    return float(int(time.time() * 1000) if now is None else int(now))


def _check_body(body: Any) -> str:
    if not isinstance(body, str):
        raise CommentError("the comment body must be text")
    if len(body) > MAX_BODY:
        raise BodyTooLong(f"the comment is {len(body)} characters long; the limit is {MAX_BODY}")
    if not body.strip():
        raise CommentError("the comment is empty")
    return body


def _check_author(author: Any) -> dict[str, str]:
    if not isinstance(author, Mapping):
        raise CommentError("author must be {name, color}")
    name, color = author.get("name"), author.get("color")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise CommentError(f"author name must be 1–{MAX_NAME} characters")
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise CommentError("author color must look like #rrggbb")
    return {"name": name.strip(), "color": color.lower()}


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise CommentError(f"{what} id must be 1–64 characters of A-Z a-z 0-9 _ -")
    return value


def _comments(doc: Doc) -> Map:
    return doc.get(COMMENTS, type=Map)


def _thread(doc: Doc, thread_id: str) -> Map:
    thread = _comments(doc).get(thread_id) if isinstance(thread_id, str) else None
    if not isinstance(thread, Map):
        raise NotFound("comment thread not found")
    return thread


def _message(thread: Map, message_id: str) -> Map:
    messages = thread.get("messages")
    if isinstance(messages, Array):
        for message in messages:
            if isinstance(message, Map) and message.get("id") == message_id:
                return message
    raise NotFound("message not found")


def _new_message(author: dict[str, str], body: str, now: float) -> Map:
    return Map({"id": str(uuid.uuid4()), "author": author, "body": body, "createdAt": now,
                "editedAt": None, "deleted": False})


# ---------------------------------------------------------------------------- changes


def create_thread(
    doc: Doc,
    *,
    author: Mapping[str, str],
    body: str,
    quote: str | None = None,
    occurrence: int = 1,
    start: int | None = None,
    end: int | None = None,
    thread_id: str | None = None,
    now: float | None = None,
) -> str:
    """Open a thread on a passage and mark it; returns the thread id.

    The passage is either the `occurrence`-th exact `quote` in the plain text, or the
    plain-text offsets [`start`, `end`) (see :func:`document_text`). It may span blocks."""
    who, text = _check_author(author), _check_body(body)
    thread_id = _check_id(thread_id, "thread") if thread_id is not None else str(uuid.uuid4())
    stamp = _now_ms(now)
    with doc.transaction():
        plain, runs = _walk(doc)
        if quote is not None:
            if start is not None or end is not None:
                raise CommentError("give either a quote or start/end offsets, not both")
            start, end = find_quote(plain, quote, occurrence)
        elif start is None or end is None:
            raise CommentError("give a quote, or start and end offsets")
        elif not 0 <= start < end <= len(plain):
            raise CommentError(f"the range must satisfy 0 <= start < end <= {len(plain)}")
        segments = _segments(runs, start, end)
        if not segments:
            raise CommentError("the range holds no text to comment on")
        if thread_id in _comments(doc):
            raise CommentError("a thread with this id exists")
        key, value = mark_key(thread_id), {"threadId": thread_id}
        for node, lo, hi in segments:
            node.format(lo, hi, {key: value})
        _comments(doc)[thread_id] = Map({
            "id": thread_id,
            "createdAt": stamp,
            "author": who,
            "quote": plain[start:end],
            "resolved": False,
            "resolvedAt": None,
            "resolvedBy": None,
            "messages": Array([_new_message(who, text, stamp)]),
        })
    return thread_id


def add_reply(doc: Doc, thread_id: str, *, author: Mapping[str, str], body: str,
              now: float | None = None) -> str:
    """Append a message to a thread; returns the message id."""
    who, text = _check_author(author), _check_body(body)
    with doc.transaction():
        thread = _thread(doc, thread_id)
        messages = thread.get("messages")
        if not isinstance(messages, Array):
            raise CommentError("this thread has no message list")
        message = _new_message(who, text, _now_ms(now))
        messages.append(message)
        return message["id"]


def edit_message(doc: Doc, thread_id: str, message_id: str, *, body: str,
                 now: float | None = None) -> None:
    """Replace a message's body (last writer wins) and stamp editedAt."""
    text = _check_body(body)
    with doc.transaction():
        message = _message(_thread(doc, thread_id), message_id)
        if message.get("deleted"):
            raise CommentError("a deleted message cannot be edited")
        message["body"] = text
        message["editedAt"] = _now_ms(now)


def delete_message(doc: Doc, thread_id: str, message_id: str) -> None:
    """Leave a tombstone: deleted = true, body erased. The thread keeps its place."""
    with doc.transaction():
        message = _message(_thread(doc, thread_id), message_id)
        message["deleted"] = True
        message["body"] = ""


def resolve(doc: Doc, thread_id: str, *, by: Mapping[str, str],
            now: float | None = None) -> None:
    """Mark a thread resolved (its passage keeps the mark; the editor stops highlighting).

    Resolving a resolved thread changes nothing (the first resolver and time are kept)."""
    who = _check_author(by)
    with doc.transaction():
        thread = _thread(doc, thread_id)
        if thread.get("resolved") is True:
            return  # already resolved: keep who and when
        thread["resolved"] = True
        thread["resolvedAt"] = _now_ms(now)
        thread["resolvedBy"] = who


def reopen(doc: Doc, thread_id: str) -> None:
    """Make a resolved thread open again."""
    with doc.transaction():
        thread = _thread(doc, thread_id)
        if thread.get("resolved") is not True:
            return
        thread["resolved"] = False
        thread["resolvedAt"] = None
        thread["resolvedBy"] = None


def delete_thread(doc: Doc, thread_id: str) -> None:
    """Remove a thread and its marks from the text."""
    with doc.transaction():
        _thread(doc, thread_id)
        for run in _walk(doc)[1]:
            for key, value in run.attrs.items():
                if run.node is not None and _thread_of(key, value) == thread_id:
                    run.node.format(run.index, run.index + len(run.text.encode("utf-8")),
                                    {key: None})
        del _comments(doc)[thread_id]


# ---------------------------------------------------------------------------- reading


def _ms(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _person(value: Any) -> dict[str, str] | None:
    if not isinstance(value, Mapping):
        return None
    return {"name": str(value.get("name") or ""), "color": str(value.get("color") or "")}


def _read_thread(thread_id: str, thread: Map, spans: dict[str, tuple[int, int]],
                 plain: str) -> dict[str, Any]:
    messages = []
    raw = thread.get("messages")
    for message in raw if isinstance(raw, Array) else []:
        if not isinstance(message, Map):
            continue
        messages.append({
            "id": str(message.get("id") or ""),
            "author": _person(message.get("author")),
            "body": message.get("body") if isinstance(message.get("body"), str) else "",
            "created_at": _ms(message.get("createdAt")),
            "edited_at": _ms(message.get("editedAt")),
            "deleted": message.get("deleted") is True,
        })
    span = spans.get(thread_id)
    resolved = thread.get("resolved") is True
    state: State = "resolved" if resolved else "detached" if span is None else "open"
    return {
        "id": thread_id,
        "state": state,
        "resolved": resolved,
        "detached": span is None,
        "quote": thread.get("quote") if isinstance(thread.get("quote"), str) else "",
        "anchor_text": plain[span[0]:span[1]] if span else None,
        "anchor": {"start": span[0], "end": span[1]} if span else None,
        "author": _person(thread.get("author")),
        "created_at": _ms(thread.get("createdAt")),
        "resolved_at": _ms(thread.get("resolvedAt")),
        "resolved_by": _person(thread.get("resolvedBy")),
        "messages": messages,
    }


def list_threads(doc: Doc) -> list[dict[str, Any]]:
    """Every thread, anchored ones in text order, then detached ones by creation time.

    Each is ``{id, state, resolved, detached, quote, anchor_text, anchor: {start, end} | None,
    author, created_at, resolved_at, resolved_by, messages: [{id, author, body, created_at,
    edited_at, deleted}]}`` (times in ms epoch)."""
    with doc.transaction():
        plain, runs = _walk(doc)
        spans = _anchors(runs)
        threads = [_read_thread(str(tid), thread, spans, plain)
                   for tid, thread in _comments(doc).items() if isinstance(thread, Map)]

    def order(t: dict[str, Any]) -> tuple[int, int, str]:
        anchor = t["anchor"]
        return (0 if anchor else 1, anchor["start"] if anchor else t["created_at"] or 0, t["id"])

    return sorted(threads, key=order)


def get_thread(doc: Doc, thread_id: str) -> dict[str, Any]:
    """One thread, as in :func:`list_threads`. Raises NotFound."""
    with doc.transaction():
        thread = _thread(doc, thread_id)
        plain, runs = _walk(doc)
        return _read_thread(thread_id, thread, _anchors(runs), plain)


# ---------------------------------------------------------------------------- authorship


def misattributed(events: list[Any], name: str) -> list[Map]:
    """The threads and messages that `events` (deep events of the "comments" map) added under
    an author other than `name` — a signed-in person writing in someone else's name. Called
    inside the transaction: it only reads."""
    found: list[Map] = []

    def check(item: Any) -> None:
        if isinstance(item, Map):
            author = item.get("author")
            if not isinstance(author, dict) or author.get("name") != name:
                found.append(item)

    for event in events:
        path = list(getattr(event, "path", []) or [])
        if not path:  # new threads, with their first message
            for change in (getattr(event, "keys", None) or {}).values():
                thread = change.get("newValue") if change.get("action") == "add" else None
                if isinstance(thread, Map):
                    check(thread)
                    messages = thread.get("messages")
                    if isinstance(messages, Array):
                        for message in messages:
                            check(message)
        elif len(path) == 2 and path[1] == "messages":  # replies
            for op in getattr(event, "delta", None) or []:
                for message in op.get("insert", []) if isinstance(op, dict) else []:
                    check(message)
    return found


def set_author_names(items: list[Map], name: str) -> None:
    """Put `name` on these threads/messages (keeping each one's colour)."""
    for item in items:
        author = item.get("author")
        color = author.get("color") if isinstance(author, dict) else None
        item["author"] = {"name": name,
                          "color": color if isinstance(color, str) and _COLOR.fullmatch(color)
                          else "#6b7280"}
