"""REST: a signed-in person's notifications — the inbox, marking read, the live unread count
(server-sent events) and their email settings. Notifications are made by the server only
(server/notify.py); nothing here creates one."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, StrictBool, model_validator

from server.access import UserDep
from server.deps import EngineDep, InboxDep
from server.notify import MAX_STREAMS_PER_PERSON, TooManyStreams, can_read
from server.security import valid_email
from storage import assignments, notifications
from storage.models import Notification, User

router = APIRouter(prefix="/api/notifications", tags=["notifications"])
assigned_router = APIRouter(tags=["notifications"])
KEEPALIVE_SECONDS = 25.0


class Person(BaseModel):
    id: str | None
    name: str


class NotificationPublic(BaseModel):
    id: int
    kind: str  # mention | reply | assigned | share
    doc_id: str
    doc_title: str
    thread_id: str | None
    actor: Person
    quote: str  # the passage (a thread's) or the document's title (an invitation)
    excerpt: str  # the message, or the role an invitation gives
    url: str  # where clicking it goes: the document, at the thread
    created_at: str
    read: bool


class NotificationPage(BaseModel):
    items: list[NotificationPublic]
    unread: int


NotificationId = Annotated[int, Field(strict=True, ge=1, le=2**63 - 1)]


class ReadRequest(BaseModel):
    ids: list[NotificationId] | None = Field(default=None, max_length=500)
    all: StrictBool = False

    @model_validator(mode="after")
    def one_of(self) -> ReadRequest:
        if (self.ids is None) == (not self.all):
            raise ValueError("give either ids or all: true")
        return self


class Unread(BaseModel):
    unread: int


class EmailSettings(BaseModel):
    email: str | None = Field(default=None, max_length=254)
    email_notifications: Literal["all", "mentions", "none"] = "all"


def _signed_in(user: User | None) -> User:
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first",
                            headers={"WWW-Authenticate": "Bearer"})
    return user


def _public(note: Notification, title: str) -> NotificationPublic:
    url = f"/d/{note.doc_id}" + (f"?thread={note.thread_id}" if note.thread_id else "")
    return NotificationPublic(
        id=note.id or 0, kind=note.kind, doc_id=note.doc_id, doc_title=title,
        thread_id=note.thread_id, actor=Person(id=note.actor_id, name=note.actor_name),
        quote=note.quote, excerpt=note.excerpt, url=url,
        created_at=note.created_at.isoformat(), read=note.read_at is not None)


@router.get("", response_model=NotificationPage)
async def list_notifications(user: UserDep, engine: EngineDep,
                             limit: int = Query(default=30, ge=1, le=100),
                             before: int | None = Query(default=None, ge=1)):
    """Your notifications, newest first (`before`: the id to page from), and the unread count."""
    me = _signed_in(user)

    def read() -> NotificationPage:
        rows = notifications.list_for(engine, user_id=me.id, limit=limit, before=before)
        return NotificationPage(items=[_public(n, t) for n, t in rows],
                                unread=notifications.unread_count(engine, user_id=me.id))

    return await asyncio.to_thread(read)


@router.post("/read", response_model=Unread)
async def mark_read(body: ReadRequest, user: UserDep, engine: EngineDep, inbox: InboxDep):
    """Mark some (`ids`) or `all` of your notifications read; answers the unread count left."""
    me = _signed_in(user)

    def write() -> int:
        notifications.mark_read(engine, user_id=me.id, ids=None if body.all else body.ids)
        return notifications.unread_count(engine, user_id=me.id)

    unread = await asyncio.to_thread(write)
    inbox.wake([me.id])  # your other tabs and devices show the new count
    return Unread(unread=unread)


@router.get("/stream")
async def stream(request: Request, user: UserDep, engine: EngineDep, inbox: InboxDep):
    """Server-sent events: `unread` with the count now, then again whenever it may change."""
    me = _signed_in(user)
    if inbox.streams(me.id) >= MAX_STREAMS_PER_PERSON:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            "Too many live notification counters open for this account.",
                            headers={"Retry-After": "30"})

    async def events() -> AsyncIterator[str]:
        try:
            woken = inbox.open_stream(me.id)
        except TooManyStreams:  # others opened meanwhile: the client retries later
            yield "retry: 30000\n\n"
            return
        try:
            yield "retry: 5000\n\n"
            while not inbox.closing:
                woken.clear()
                count = await asyncio.to_thread(notifications.unread_count, engine,
                                                user_id=me.id)
                yield f"event: unread\ndata: {json.dumps({'unread': count})}\n\n"
                while not woken.is_set() and not inbox.closing:
                    try:
                        await asyncio.wait_for(woken.wait(), KEEPALIVE_SECONDS)
                    except TimeoutError:
                        if await request.is_disconnected():
                            return
                        yield ": keep-alive\n\n"
        finally:
            inbox.close_stream(me.id, woken)

    return StreamingResponse(events(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/settings", response_model=EmailSettings)
async def get_settings(user: UserDep):
    me = _signed_in(user)
    return EmailSettings(email=me.email, email_notifications=me.email_notifications)  # type: ignore[arg-type]


@router.put("/settings", response_model=EmailSettings)
async def put_settings(body: EmailSettings, user: UserDep, engine: EngineDep):
    """Your email address (null: none) and which notifications are emailed."""
    me = _signed_in(user)
    email = body.email.strip() if body.email else None
    if email and not valid_email(email):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "That does not look like an email address.")
    saved = await asyncio.to_thread(notifications.set_email, engine, user_id=me.id, email=email,
                                    choice=body.email_notifications)
    if saved is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such account")
    return EmailSettings(email=saved.email, email_notifications=saved.email_notifications)  # type: ignore[arg-type]


class AssignedThread(BaseModel):
    doc_id: str
    doc_title: str
    thread_id: str
    quote: str
    assigned_by: str  # the name of the thread's author
    url: str


@assigned_router.get("/api/assigned", response_model=list[AssignedThread])
async def assigned_to_me(user: UserDep, engine: EngineDep):
    """Open comment threads assigned to you, in documents you can read (most recently edited
    document first). Follows the documents' comments within a few seconds (the search index)."""
    me = _signed_in(user)

    def read() -> list[AssignedThread]:
        found = []
        for row, doc in assignments.assigned_to(engine, user_id=me.id):
            if can_read(engine, doc, me.id):
                found.append(AssignedThread(
                    doc_id=doc.id, doc_title=doc.title, thread_id=row.thread_id, quote=row.quote,
                    assigned_by=row.assigned_by, url=f"/d/{doc.id}?thread={row.thread_id}"))
        return found

    return await asyncio.to_thread(read)
