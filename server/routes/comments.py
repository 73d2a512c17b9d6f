"""REST: comment threads of a document (the data lives in its Y.Doc; see crdt/comments.py).

Changes are made on the live room doc in one transaction each, then `room.drain()` waits until
they are persisted — and broadcast to everyone editing — before the response goes out. Works
for documents nobody has open (the room is loaded, and unloaded again after the grace period).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import BaseModel, Field, model_validator

from crdt import comments
from crdt.room import Room
from server.access import Access, CanComment, CanView
from server.deps import RoomsDep

router = APIRouter(prefix="/api/docs/{doc_id}/comments", tags=["comments"])

# Who a change is attributed to when the caller names nobody (bots, scripts).
DEFAULT_AUTHOR = {"name": "Quire API", "color": "#6b7280"}


class Author(BaseModel):
    name: str = Field(min_length=1, max_length=comments.MAX_NAME)
    color: str = Field(pattern=r"^#[0-9a-fA-F]{6}$", examples=["#3355aa"])


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


class Person(BaseModel):
    name: str
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
    elif isinstance(exc, comments.BodyTooLong):
        code = status.HTTP_413_CONTENT_TOO_LARGE
    else:
        code = status.HTTP_422_UNPROCESSABLE_CONTENT
    detail = str(exc)
    return HTTPException(code, detail[:1].upper() + detail[1:])


def _author(author: Author | None, access: Access) -> dict[str, str]:
    """A signed-in account always speaks under its own name; bots and links may name
    themselves."""
    chosen = author.model_dump() if author is not None else dict(DEFAULT_AUTHOR)
    if access.author_name:
        chosen["name"] = access.author_name
    return chosen


async def _room(rooms, doc_id: str) -> Room:
    return await rooms.with_room(doc_id)


async def _persisted(room: Room) -> None:
    await room.drain()
    if room.failed:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "The change could not be saved (storage unavailable); try again")


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
    room = await _room(rooms, doc_id)
    try:
        with room.doc.transaction():
            thread_id = comments.create_thread(
                room.doc, author=_author(body.author, access), body=body.body, quote=body.quote,
                occurrence=body.occurrence, start=body.start, end=body.end)
    except comments.CommentError as exc:
        raise refused(exc) from exc
    await _persisted(room)
    return public(comments.get_thread(room.doc, thread_id))


@router.post("/{thread_id}/replies", status_code=status.HTTP_201_CREATED,
             response_model=ThreadPublic)
async def add_reply(doc_id: str, thread_id: str, body: ReplyCreate, access: CanComment,
                    rooms: RoomsDep):
    """Append a message; returns the whole thread (the new message is the last one)."""
    room = await _room(rooms, doc_id)
    try:
        with room.doc.transaction():
            comments.add_reply(room.doc, thread_id, author=_author(body.author, access), body=body.body)
    except comments.CommentError as exc:
        raise refused(exc) from exc
    await _persisted(room)
    return public(comments.get_thread(room.doc, thread_id))


@router.patch("/{thread_id}", response_model=ThreadPublic)
async def update_thread(doc_id: str, thread_id: str, body: ThreadUpdate, access: CanComment,
                        rooms: RoomsDep):
    """Resolve (`{"resolved": true}`) or reopen (`false`) a thread."""
    room = await _room(rooms, doc_id)
    try:
        with room.doc.transaction():
            if body.resolved:
                comments.resolve(room.doc, thread_id, by=_author(body.author, access))
            else:
                comments.reopen(room.doc, thread_id)
    except comments.CommentError as exc:
        raise refused(exc) from exc
    await _persisted(room)
    return public(comments.get_thread(room.doc, thread_id))
