"""REST: comment threads of a document (the data lives in its Y.Doc; see crdt/COMMENTS.md).

Changes are made on the live room doc in one transaction each, then `room.drain()` waits until
they are persisted — and broadcast to everyone editing — before the response goes out. Works
for documents nobody has open (the room is loaded, and unloaded again after the grace period).

Who writes is the caller: a signed-in account under its own id, username and display name; a
share link as ``link:<share id>`` under the name it gives. The ownership rules of
crdt/COMMENTS.md hold here as on the WebSocket (403 with a plain message when they refuse).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal, TypeVar

from fastapi import APIRouter, HTTPException, Query, Response, status
from pycrdt import Doc
from pydantic import BaseModel, Field, model_validator

from crdt import comments
from crdt.room import Room
from server.access import Access, CanComment, CanView, Principal
from server.deps import EngineDep, NotifierDep, RoomsDep
from server.notify import ASSIGNEE_COLOR, can_read
from storage.accounts import get_user_by_username

T = TypeVar("T")

router = APIRouter(prefix="/api/docs/{doc_id}/comments", tags=["comments"])

# Who a change is attributed to when the caller names nobody (bots, scripts).
DEFAULT_AUTHOR = {"name": "Quire API", "color": "#6b7280"}


class Author(BaseModel):
    """How the caller appears. A signed-in account always appears under its own name; `id` and
    `username`, if given, must be the caller's own (403 otherwise)."""

    name: str = Field(min_length=1, max_length=comments.MAX_NAME)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#3355aa"])
    id: str | None = Field(default=None, max_length=comments.MAX_PERSON_ID)
    username: str | None = Field(default=None, max_length=comments.MAX_USERNAME)


class ThreadCreate(BaseModel):
    """The passage: `quote` (its `occurrence`-th exact match in the document's plain text,
    blocks separated by "\\n") or plain-text offsets `start`/`end`."""

    # Bounded: finding the n-th of overlapping occurrences costs up to n × len(quote), on the
    # event loop (a 100,000-character quote in a 200,000-character document took 20 s).
    quote: str | None = Field(default=None, min_length=1, max_length=comments.MAX_BODY)
    occurrence: int = Field(default=1, ge=1, le=1000)
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    body: str  # length is checked by crdt.comments (413 when over the limit)
    author: Author | None = None

    @model_validator(mode="after")
    def one_passage(self) -> ThreadCreate:
        offsets = self.start is not None or self.end is not None
        if self.quote is None and not offsets:
            raise ValueError("give a quote (or start and end offsets) for the passage")
        if self.quote is not None and offsets:
            raise ValueError("give either a quote or start/end offsets, not both")
        if offsets and (self.start is None or self.end is None):
            raise ValueError("give both start and end")
        return self


class ReplyCreate(BaseModel):
    body: str
    author: Author | None = None


class ThreadUpdate(BaseModel):
    resolved: bool
    author: Author | None = None  # who resolves (recorded as resolvedBy)


class MessageEdit(BaseModel):
    body: str


class Person(BaseModel):
    """A person in comment data: `id` is an account id or "link:<share id>" (None for data
    written before comments had owners); `username` is None for share-link visitors."""

    id: str | None
    name: str
    username: str | None
    color: str


class MessagePublic(BaseModel):
    id: str
    author: Person | None
    body: str
    created_at: datetime | None
    edited_at: datetime | None
    deleted: bool


class Anchor(BaseModel):
    start: int
    end: int


class ThreadPublic(BaseModel):
    id: str
    state: Literal["open", "resolved", "detached"]
    resolved: bool
    detached: bool
    quote: str
    anchor_text: str | None
    anchor: Anchor | None
    author: Person | None
    created_at: datetime | None
    resolved_at: datetime | None
    resolved_by: Person | None
    assignee: Person | None = None
    messages: list[MessagePublic]


class ThreadList(BaseModel):
    items: list[ThreadPublic]
    total: int


def _time(ms: int | None) -> datetime | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, UTC)


def public(thread: dict) -> ThreadPublic:
    return ThreadPublic(**{
        **thread,
        "created_at": _time(thread["created_at"]),
        "resolved_at": _time(thread["resolved_at"]),
        "messages": [MessagePublic(**{**m, "created_at": _time(m["created_at"]),
                                      "edited_at": _time(m["edited_at"])})
                     for m in thread["messages"]],
    })


def refused(exc: comments.CommentError) -> HTTPException:
    if isinstance(exc, comments.NotFound):
        code = status.HTTP_404_NOT_FOUND
    elif isinstance(exc, comments.NotAllowed):
        code = status.HTTP_403_FORBIDDEN
    elif isinstance(exc, comments.BodyTooLong):
        code = status.HTTP_413_CONTENT_TOO_LARGE
    else:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    detail = str(exc)
    return HTTPException(code, detail[:1].upper() + detail[1:])


def _person(principal: Principal, author: Author | None) -> dict[str, str | None]:
    """The caller as a person object: a signed-in account under its own id, username and name;
    a share link as "link:<share id>" under the name it chooses; without accounts, as given."""
    chosen = author.model_dump() if author is not None else {**DEFAULT_AUTHOR, "id": None,
                                                             "username": None}
    if principal.anonymous:  # accounts switched off: nobody to check against
        return chosen
    own = {"id": principal.account,
           "username": principal.user.username if principal.user else None}
    for key, value in own.items():
        if chosen[key] is not None and chosen[key] != value:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                "You can only write comments as yourself")
    if principal.user is not None:
        chosen["name"] = principal.user.display_name
    return {**chosen, **own}


def _actor(access: Access, author: Author | None = None) -> comments.Actor:
    """Who acts, for crdt.comments' ownership rules."""
    return comments.Actor(_person(access.principal, author), role=access.role,
                          accounts=not access.principal.anonymous)


async def _room(rooms, doc_id: str) -> Room:
    return await rooms.with_room(doc_id)


async def _persisted(room: Room) -> None:
    await room.drain()
    if room.failed:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "The change could not be saved (storage unavailable); try again")


async def _change(rooms, doc_id: str, change: Callable[[Doc], T]) -> tuple[Room, T]:
    """Make `change` to the live document in one transaction (a refused change answers 403,
    422 or 404 and changes nothing), and wait until it is stored."""
    room = await _room(rooms, doc_id)
    try:
        with room.doc.transaction():
            result = change(room.doc)
    except comments.CommentError as exc:
        raise refused(exc) from exc
    await _persisted(room)
    return room, result


@router.get("", response_model=ThreadList)
async def list_threads(
    doc_id: str,
    access: CanView,
    rooms: RoomsDep,
    state: Literal["open", "resolved", "detached"] | None = Query(default=None),
):
    """Every thread with its messages, state and the text it is anchored to (text order)."""
    room = await _room(rooms, doc_id)
    threads = [t for t in comments.list_threads(room.doc) if state is None or t["state"] == state]
    return ThreadList(items=[public(t) for t in threads], total=len(threads))


@router.get("/{thread_id}", response_model=ThreadPublic)
async def get_thread(doc_id: str, thread_id: str, access: CanView, rooms: RoomsDep):
    room = await _room(rooms, doc_id)
    try:
        return public(comments.get_thread(room.doc, thread_id))
    except comments.CommentError as exc:
        raise refused(exc) from exc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ThreadPublic)
async def create_thread(doc_id: str, body: ThreadCreate, access: CanComment, rooms: RoomsDep):
    room, thread_id = await _change(rooms, doc_id, lambda doc: comments.create_thread(
        doc, author=_person(access.principal, body.author), body=body.body,
        quote=body.quote,
        occurrence=body.occurrence, start=body.start, end=body.end))
    return public(comments.get_thread(room.doc, thread_id))


@router.post("/{thread_id}/replies", status_code=status.HTTP_201_CREATED,
             response_model=ThreadPublic)
async def add_reply(doc_id: str, thread_id: str, body: ReplyCreate, access: CanComment,
                    rooms: RoomsDep):
    """Append a message; returns the whole thread (the new message is the last one)."""
    room, _ = await _change(rooms, doc_id, lambda doc: comments.add_reply(doc, thread_id, author=_person(access.principal, body.author),
                       body=body.body))
    return public(comments.get_thread(room.doc, thread_id))


@router.patch("/{thread_id}", response_model=ThreadPublic)
async def update_thread(doc_id: str, thread_id: str, body: ThreadUpdate, access: CanComment,
                        rooms: RoomsDep):
    """Resolve (`{"resolved": true}`) or reopen (`false`) a thread: its author, an editor or
    the owner."""
    actor = _actor(access, body.author)
    room, _ = await _change(rooms, doc_id, lambda doc: (
        comments.resolve(doc, thread_id, by=actor) if body.resolved
        else comments.reopen(doc, thread_id, by=actor)))
    return public(comments.get_thread(room.doc, thread_id))


@router.delete("/{thread_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_thread(doc_id: str, thread_id: str, access: CanComment,
                        rooms: RoomsDep) -> Response:
    """Delete a thread and its highlight: its author or the owner."""
    room, _ = await _change(rooms, doc_id, lambda doc: comments.delete_thread(doc, thread_id, by=_actor(access)))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.patch("/{thread_id}/messages/{message_id}", response_model=ThreadPublic)
async def edit_message(doc_id: str, thread_id: str, message_id: str, body: MessageEdit,
                       access: CanComment, rooms: RoomsDep):
    """Change a message's text: its author only. Returns the whole thread."""
    room, _ = await _change(rooms, doc_id, lambda doc: comments.edit_message(doc, thread_id, message_id, body=body.body,
                          by=_actor(access)))
    return public(comments.get_thread(room.doc, thread_id))


@router.delete("/{thread_id}/messages/{message_id}", response_model=ThreadPublic)
async def delete_message(doc_id: str, thread_id: str, message_id: str, access: CanComment,
                         rooms: RoomsDep):
    """Delete a message (it stays as a tombstone, "Comment deleted"): its author or the owner.
    Returns the whole thread."""
    room, _ = await _change(rooms, doc_id, lambda doc: comments.delete_message(doc, thread_id, message_id, by=_actor(access)))
    return public(comments.get_thread(room.doc, thread_id))


class AssigneeSet(BaseModel):
    username: str | None = Field(max_length=64)  # None: assigned to no one


@router.put("/{thread_id}/assignee", response_model=ThreadPublic)
async def assign_thread(doc_id: str, thread_id: str, body: AssigneeSet, access: CanComment,
                        rooms: RoomsDep, engine: EngineDep, notifier: NotifierDep):
    """Assign the thread to someone who can read the document (or to no one): its author, an
    editor or the owner. The assignee is notified, and may mark the thread done (resolve it)."""
    assignee = None
    if body.username is not None:
        user = await asyncio.to_thread(get_user_by_username, engine, username=body.username)
        if user is None or not await asyncio.to_thread(can_read, engine, access.doc, user.id):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                f"{body.username!r} cannot read this document: share it first")
        assignee = {"id": user.id, "name": user.display_name, "username": user.username,
                    "color": ASSIGNEE_COLOR}
    actor = _actor(access)
    room, _ = await _change(rooms, doc_id, lambda doc: comments.assign(doc, thread_id, assignee,
                                                                      by=actor))
    thread = comments.get_thread(room.doc, thread_id)
    if assignee is not None:
        await notifier.assigned(access.doc, thread_id=thread_id, assignee_id=assignee["id"],
                                by=actor.person, quote=thread["quote"])
    return public(thread)
