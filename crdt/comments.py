"""Comment threads kept in the Y.Doc, anchored to passages of the text by a ``comment`` mark.

The contract between this module, the WebSocket's update inspector and the browser — the data
shapes, the person objects ``{id, name, username, color}``, the ownership rules, the mark keys
and what the browser must do — is in ``crdt/COMMENTS.md``. In short: a person is identified by
``id`` (the account id, or ``"link:" + share id`` for a share-link visitor), never by the display
name; a message is edited only by its author; a message is deleted (tombstone) by its author or
the owner; a thread is resolved/reopened by its author, an editor or the owner and deleted by its
author or the owner; data without ids belongs to nobody. The rule functions (:func:`may_edit`,
:func:`may_delete_message`, :func:`may_resolve`, :func:`may_delete_thread`) are the one place
these rules are written in Python.

Errors::

    CommentError(ValueError)  invalid input (empty body, bad author, quote not found, bad range)
    ├── BodyTooLong           a body over MAX_BODY code points
    ├── NotFound              unknown thread or message
    └── NotAllowed            the ownership rules refuse it (REST answers 403)

Functions validate everything before writing, so a refused call changes nothing.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pycrdt import Array, Doc, Map

from crdt.comment_marks import (  # noqa: F401  (FRAGMENT, MARK: public names of this module)
    FRAGMENT,
    MARK,
    _anchors,
    _segments,
    _thread_of,
    mark_key,
)
from crdt.plain_text import document_text, walk

__all__ = [
    "MAX_BODY",
    "Actor",
    "BodyTooLong",
    "CommentError",
    "NotAllowed",
    "NotFound",
    "add_reply",
    "create_thread",
    "delete_message",
    "delete_thread",
    "document_text",
    "edit_message",
    "find_quote",
    "get_thread",
    "list_threads",
    "mark_key",
    "may_delete_message",
    "may_delete_thread",
    "may_edit",
    "may_resolve",
    "reopen",
    "resolve",
]

COMMENTS = "comments"
MAX_BODY = 10_000
MAX_NAME = 100
MAX_PERSON_ID = 100
MAX_USERNAME = 64
LINK_PREFIX = "link:"  # a share-link visitor's person id: "link:" + Share.id
_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")

State = Literal["open", "resolved", "detached"]


class CommentError(ValueError):
    """A comment operation was refused; the message says why (shown to API users)."""


class BodyTooLong(CommentError):
    """A message body is longer than MAX_BODY characters."""


class NotFound(CommentError):
    """No such thread or message."""


class NotAllowed(CommentError):
    """The ownership rules (crdt/COMMENTS.md) do not let this person make this change."""


# ---------------------------------------------------------------------------- ownership


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a change: their person object ``{id, name, username, color}`` and their role
    on the document. ``accounts=False`` (accounts switched off): everyone is the owner and the
    rules are not enforced."""

    person: Mapping[str, Any]
    role: str = "commenter"
    accounts: bool = True

    @property
    def id(self) -> str | None:
        return person_id(self.person)

    @property
    def owner(self) -> bool:
        return not self.accounts or self.role == "owner"


def person_id(person: Any) -> str | None:
    """The ``id`` of a person object, or None (no id: data from before ownership existed)."""
    value = person.get("id") if isinstance(person, Mapping) else None
    return value if isinstance(value, str) and value else None


def _authored(author: Any, actor: Actor) -> bool:
    """`actor` is this author: same non-empty id (names are never compared)."""
    return actor.id is not None and person_id(author) == actor.id


def may_edit(author: Any, actor: Actor) -> bool:
    """Change a message's body: its author only (not even the owner)."""
    return not actor.accounts or _authored(author, actor)


def may_delete_message(author: Any, actor: Actor) -> bool:
    """Tombstone a message: its author or the owner."""
    return actor.owner or _authored(author, actor)


def may_resolve(thread_author: Any, actor: Actor, assignee: Any = None) -> bool:
    """Resolve or reopen a thread: its author, its assignee (marking it done), an editor or
    the owner."""
    return (actor.owner or actor.role == "editor" or _authored(thread_author, actor)
            or (assignee is not None and _authored(assignee, actor)))


def may_assign(thread_author: Any, actor: Actor) -> bool:
    """Assign a thread to someone (or no one): its author, an editor or the owner."""
    return actor.owner or actor.role == "editor" or _authored(thread_author, actor)


def may_delete_thread(thread_author: Any, actor: Actor) -> bool:
    """Remove a thread and its marks: its author or the owner."""
    return actor.owner or _authored(thread_author, actor)


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


def _check_author(author: Any) -> dict[str, Any]:
    """A person object as stored: ``{id, name, username, color}`` (id/username may be None)."""
    if not isinstance(author, Mapping):
        raise CommentError("author must be {id, name, username, color}")
    name, color = author.get("name"), author.get("color")
    pid, username = author.get("id"), author.get("username")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise CommentError(f"author name must be 1–{MAX_NAME} characters")
    if not isinstance(color, str) or not _COLOR.fullmatch(color):
        raise CommentError("author color must look like #rrggbb")
    if pid is not None and (not isinstance(pid, str) or not 0 < len(pid) <= MAX_PERSON_ID):
        raise CommentError(f"author id must be 1–{MAX_PERSON_ID} characters")
    if username is not None and (not isinstance(username, str)
                                 or not 0 < len(username) <= MAX_USERNAME):
        raise CommentError(f"author username must be 1–{MAX_USERNAME} characters")
    return {"id": pid, "name": name.strip(), "username": username, "color": color.lower()}


def _check_id(value: str, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise CommentError(f"{what} id must be 1–64 characters of A-Z a-z 0-9 _ -")
    return value


def _comments(doc: Doc[Any]) -> Map[Any]:
    comments: Map[Any] = doc.get(COMMENTS, type=Map)
    return comments


def _thread(doc: Doc[Any], thread_id: str) -> Map[Any]:
    thread = _comments(doc).get(thread_id) if isinstance(thread_id, str) else None
    if not isinstance(thread, Map):
        raise NotFound("comment thread not found")
    return thread


def _message(thread: Map[Any], message_id: str) -> Map[Any]:
    messages = thread.get("messages")
    if isinstance(messages, Array):
        for message in messages:
            if isinstance(message, Map) and message.get("id") == message_id:
                return message
    raise NotFound("message not found")


def _new_message(author: dict[str, Any], body: str, now: float) -> Map[Any]:
    return Map({"id": str(uuid.uuid4()), "author": author, "body": body, "createdAt": now,
                "editedAt": None, "deleted": False})


# ---------------------------------------------------------------------------- changes

_NOT_RESOLVER = ("only the thread's author, its assignee, an editor or the document's owner can "
                 "resolve or reopen it")


def create_thread(
    doc: Doc[Any],
    *,
    author: Mapping[str, str | None],
    body: str,
    quote: str | None = None,
    occurrence: int = 1,
    start: int | None = None,
    end: int | None = None,
    thread_id: str | None = None,
    now: float | None = None,
) -> str:
    """Open a thread on a passage and mark it; returns the thread id. `author` is the person
    creating it (``{id, name, username, color}``): the thread and its first message are theirs.

    The passage is either the `occurrence`-th exact `quote` in the plain text, or the
    plain-text offsets [`start`, `end`) (see :func:`document_text`). It may span blocks."""
    who, text = _check_author(author), _check_body(body)
    thread_id = _check_id(thread_id, "thread") if thread_id is not None else str(uuid.uuid4())
    stamp = _now_ms(now)
    with doc.transaction():
        plain, runs = walk(doc)
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


def add_reply(doc: Doc[Any], thread_id: str, *, author: Mapping[str, str | None], body: str,
              now: float | None = None) -> str:
    """Append a message by `author` (the person replying) to a thread; returns its id."""
    who, text = _check_author(author), _check_body(body)
    with doc.transaction():
        thread = _thread(doc, thread_id)
        messages = thread.get("messages")
        if not isinstance(messages, Array):
            raise CommentError("this thread has no message list")
        message = _new_message(who, text, _now_ms(now))
        messages.append(message)
        return str(message["id"])


def edit_message(doc: Doc[Any], thread_id: str, message_id: str, *, body: str, by: Actor,
                 now: float | None = None) -> None:
    """Replace a message's body (last writer wins) and stamp editedAt: its author only."""
    text = _check_body(body)
    with doc.transaction():
        message = _message(_thread(doc, thread_id), message_id)
        if not may_edit(message.get("author"), by):
            raise NotAllowed("only its author can edit a comment")
        if message.get("deleted"):
            raise CommentError("a deleted message cannot be edited")
        message["body"] = text
        message["editedAt"] = _now_ms(now)


def delete_message(doc: Doc[Any], thread_id: str, message_id: str, *, by: Actor) -> None:
    """Leave a tombstone: deleted = true, body erased (its author or the owner). The thread
    keeps its place."""
    with doc.transaction():
        message = _message(_thread(doc, thread_id), message_id)
        if not may_delete_message(message.get("author"), by):
            raise NotAllowed("only its author or the document's owner can delete a comment")
        if message.get("deleted") is True and message.get("body") == "":
            return  # already a tombstone: write nothing
        message["deleted"] = True
        message["body"] = ""


def resolve(doc: Doc[Any], thread_id: str, *, by: Actor, now: float | None = None) -> None:
    """Mark a thread resolved (its passage keeps the mark; the editor stops highlighting): its
    author, an editor or the owner; ``resolvedBy`` is `by`'s person.

    Resolving a resolved thread changes nothing (the first resolver and time are kept)."""
    who = _check_author(by.person)
    with doc.transaction():
        thread = _thread(doc, thread_id)
        if not may_resolve(thread.get("author"), by, thread.get("assignee")):
            raise NotAllowed(_NOT_RESOLVER)
        if thread.get("resolved") is True:
            return  # already resolved: keep who and when
        thread["resolved"] = True
        thread["resolvedAt"] = _now_ms(now)
        thread["resolvedBy"] = who


def assign(doc: Doc[Any], thread_id: str, assignee: Mapping[str, Any] | None, *,
           by: Actor) -> None:
    """Assign a thread to `assignee` (a person with an account id; None: to no one): its
    author, an editor or the owner. The assignee may then resolve it ("mark done")."""
    who = None if assignee is None else _check_author(assignee)
    if who is not None and person_id(who) is None:
        raise CommentError("a thread is assigned to a person with an account")
    with doc.transaction():
        thread = _thread(doc, thread_id)
        if not may_assign(thread.get("author"), by):
            raise NotAllowed("only the thread's author, an editor or the owner can assign it")
        thread["assignee"] = who


def reopen(doc: Doc[Any], thread_id: str, *, by: Actor) -> None:
    """Make a resolved thread open again (who may: as for :func:`resolve`)."""
    with doc.transaction():
        thread = _thread(doc, thread_id)
        if not may_resolve(thread.get("author"), by, thread.get("assignee")):
            raise NotAllowed(_NOT_RESOLVER)
        if thread.get("resolved") is not True:
            return
        thread["resolved"] = False
        thread["resolvedAt"] = None
        thread["resolvedBy"] = None


def delete_thread(doc: Doc[Any], thread_id: str, *, by: Actor) -> None:
    """Remove a thread and its marks from the text: its author or the owner."""
    with doc.transaction():
        if not may_delete_thread(_thread(doc, thread_id).get("author"), by):
            raise NotAllowed("only its author or the document's owner can delete a thread")
        for run in walk(doc)[1]:
            for key, value in run.attrs.items():
                if run.node is not None and _thread_of(key, value) == thread_id:
                    run.node.format(run.index, run.index + len(run.text.encode("utf-8")),
                                    {key: None})
        del _comments(doc)[thread_id]


# ---------------------------------------------------------------------------- reading


def _ms(value: Any) -> int | None:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _person(value: Any) -> dict[str, str | None] | None:
    if not isinstance(value, Mapping):
        return None
    username = value.get("username")
    return {"id": person_id(value), "name": str(value.get("name") or ""),
            "username": username if isinstance(username, str) and username else None,
            "color": str(value.get("color") or "")}


def _read_thread(thread_id: str, thread: Map[Any], spans: dict[str, tuple[int, int]],
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
        "assignee": _person(thread.get("assignee")),
        "messages": messages,
    }


def list_threads(doc: Doc[Any]) -> list[dict[str, Any]]:
    """Every thread, anchored ones in text order, then detached ones by creation time.

    Each is ``{id, state, resolved, detached, quote, anchor_text, anchor: {start, end} | None,
    author, created_at, resolved_at, resolved_by, messages: [{id, author, body, created_at,
    edited_at, deleted}]}`` (times in ms epoch)."""
    with doc.transaction():
        plain, runs = walk(doc)
        spans = _anchors(runs)
        threads = [_read_thread(str(tid), thread, spans, plain)
                   for tid, thread in _comments(doc).items() if isinstance(thread, Map)]

    def order(t: dict[str, Any]) -> tuple[int, int, str]:
        anchor = t["anchor"]
        return (0 if anchor else 1, anchor["start"] if anchor else t["created_at"] or 0, t["id"])

    return sorted(threads, key=order)


def get_thread(doc: Doc[Any], thread_id: str) -> dict[str, Any]:
    """One thread, as in :func:`list_threads`. Raises NotFound."""
    with doc.transaction():
        thread = _thread(doc, thread_id)
        plain, runs = walk(doc)
        return _read_thread(thread_id, thread, _anchors(runs), plain)


# ---------------------------------------------------------------------------- authorship


def misattributed(events: list[Any], name: str, *, username: str | None = None) -> list[Map[Any]]:
    """The threads and messages that `events` (deep events of the "comments" map) added under
    an author other than `name` (or, when given, another `username`) — a signed-in person
    writing under someone else's name. Called inside the transaction: it only reads. (Names
    are labels, not identities: ownership is judged on ``author.id``, see crdt/COMMENTS.md.)"""
    found: list[Map[Any]] = []

    def check(item: Any) -> None:
        if isinstance(item, Map):
            author = item.get("author")
            if (not isinstance(author, dict) or author.get("name") != name
                    or (username is not None and author.get("username") != username)):
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


@dataclass(frozen=True)
class AddedMessage:
    """A message that a change added (a new thread's first one, or a reply), as plain data."""

    thread_id: str
    message_id: str
    author: dict[str, Any] | None
    body: str
    quote: str  # the passage the thread is about
    first: bool  # it opens its thread
    participants: tuple[str, ...]  # ids of the thread's author and of earlier messages' authors
    edited_from: str | None = None  # an edit of an existing message: its body before


def added_messages(events: list[Any], comments: Map[Any]) -> list[AddedMessage]:
    """The messages that `events` (deep events of the "comments" map `comments`) added, and those
    whose body they changed (`edited_from`: the body before). Called inside the transaction: it
    only reads, and copies out what it needs."""
    found: list[AddedMessage] = []

    def read(thread_id: Any, thread: Any, message: Any, edited_from: str | None = None) -> None:
        if not (isinstance(thread, Map) and isinstance(message, Map) and isinstance(thread_id, str)):
            return
        messages = thread.get("messages")
        earlier: list[str] = []
        first = True
        for other in messages if isinstance(messages, Array) else []:
            if not isinstance(other, Map):
                continue
            if other.get("id") == message.get("id"):
                break
            first = False
            if (pid := person_id(other.get("author"))) is not None:
                earlier.append(pid)
        thread_author = person_id(thread.get("author"))
        participants = tuple(dict.fromkeys(p for p in [thread_author, *earlier] if p))
        body, quote = message.get("body"), thread.get("quote")
        found.append(AddedMessage(
            thread_id=thread_id, message_id=str(message.get("id") or ""),
            author=_person(message.get("author")),
            body=body if isinstance(body, str) else "",
            quote=quote if isinstance(quote, str) else "",
            first=first, participants=participants, edited_from=edited_from))

    for event in events:
        path = list(getattr(event, "path", []) or [])
        if not path:  # new threads, with their first message
            for key, change in (getattr(event, "keys", None) or {}).items():
                thread = change.get("newValue") if change.get("action") == "add" else None
                if isinstance(thread, Map):
                    messages = thread.get("messages")
                    for message in messages if isinstance(messages, Array) else []:
                        read(key, thread, message)
        elif len(path) == 2 and path[1] == "messages":  # replies
            thread = comments.get(path[0]) if isinstance(path[0], str) else None
            for op in getattr(event, "delta", None) or []:
                for message in op.get("insert", []) if isinstance(op, dict) else []:
                    read(path[0], thread, message)
        elif len(path) == 3 and path[1] == "messages":  # an existing message changed
            change = (getattr(event, "keys", None) or {}).get("body")
            if change and change.get("action") == "update":
                old = change.get("oldValue")
                thread = comments.get(path[0]) if isinstance(path[0], str) else None
                read(path[0], thread, getattr(event, "target", None),
                     edited_from=old if isinstance(old, str) else "")
    return [m for m in found if m.message_id]


def resolved_threads(events: list[Any]) -> list[tuple[str, dict[str, str | None] | None]]:
    """The threads that `events` (deep events of the "comments" map) marked resolved, with who
    resolved them. Called inside the transaction: it only reads."""
    found = []
    for event in events:
        path = list(getattr(event, "path", []) or [])
        keys = getattr(event, "keys", None) or {}
        if len(path) == 1 and isinstance(path[0], str) and "resolved" in keys:
            change = keys["resolved"]
            if change.get("newValue") is True and change.get("oldValue") is not True:
                target = getattr(event, "target", None)
                by = target.get("resolvedBy") if isinstance(target, Map) else None
                found.append((path[0], _person(by)))
    return found


def assigned_threads(events: list[Any]) -> list[tuple[str, dict[str, str | None], str]]:
    """The threads that `events` (deep events of the "comments" map) assigned to someone, new
    threads made with an assignee included: (thread id, the assignee, the thread's quote)."""
    found = []
    for event in events:
        path = list(getattr(event, "path", []) or [])
        keys = getattr(event, "keys", None) or {}
        if not path:
            for key, change in keys.items():
                thread = change.get("newValue") if change.get("action") == "add" else None
                if isinstance(thread, Map) and isinstance(key, str):
                    person = _person(thread.get("assignee"))
                    if person is not None and person.get("id"):
                        quote = thread.get("quote")
                        found.append((key, person, quote if isinstance(quote, str) else ""))
        elif len(path) == 1 and isinstance(path[0], str) and "assignee" in keys:
            person = _person(keys["assignee"].get("newValue"))
            if person is not None and person.get("id"):
                target = getattr(event, "target", None)
                quote = target.get("quote") if isinstance(target, Map) else ""
                found.append((path[0], person, quote if isinstance(quote, str) else ""))
    return found


def set_author_names(items: list[Map[Any]], name: str, *, username: str | None = None) -> None:
    """Put `name` (and, when given, `username`) on these threads/messages, keeping each one's
    ``id`` and colour."""
    for item in items:
        author = item.get("author")
        author = author if isinstance(author, dict) else {}
        color = author.get("color")
        item["author"] = {
            "id": person_id(author),
            "name": name,
            "username": username if username is not None else author.get("username"),
            "color": color if isinstance(color, str) and _COLOR.fullmatch(color) else "#6b7280",
        }
