"""REST: documents (create, list, get, rename, settings, copy, delete) and their live content."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pycrdt import Doc
from pydantic import BaseModel, Field

from crdt.budget import Deadline
from crdt.copies import copy_state
from crdt.markdown import fragment_to_json, json_text
from crdt.meta import initial_update, set_title
from crdt.protocol import CloseCode
from server.access import RANK, CanEdit, CanView, IsOwner, UserDep, may_share
from server.cpu import refusals
from server.deps import AccessWatchDep, CpuDep, EngineDep, RoomsDep, SearchDep, SettingsDep
from storage import documents as store_docs
from storage.models import Document
from storage.shares import user_roles_on
from storage.updates import append_updates

router = APIRouter(prefix="/api/docs", tags=["documents"])


class DocumentCreate(BaseModel):
    title: str = Field(default="Untitled", min_length=1, max_length=500)


class DocumentUpdate(BaseModel):
    """A new title (editors), whether editors may share (the owner only), or both."""

    title: str | None = Field(default=None, min_length=1, max_length=500)
    editors_can_share: bool | None = None


class DocumentCopy(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=500)  # "Copy of <title>"
    comments: bool = False  # keep the comment threads (and their highlights)


class DocumentPublic(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    online: int = 0
    # the caller's role: viewer, commenter, editor or owner (what the page may let them do)
    role: str = "owner"
    owner_name: str | None = None  # the owner's display name (None: no owner, e.g. the CLI's)
    editors_can_share: bool = False  # the owner lets editors invite people and make links
    can_share: bool = True  # the caller may invite people and make links


class DocumentPage(BaseModel):
    items: list[DocumentPublic]
    total: int


class DocumentContent(BaseModel):
    text: str
    json_: dict = Field(alias="json", serialization_alias="json")


def _utc(when: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def public(doc: Document, rooms, role: str = "owner", *, owner_name: str | None = None,
           can_share: bool | None = None) -> DocumentPublic:
    return DocumentPublic(id=doc.id, title=doc.title, created_at=_utc(doc.created_at),
                          updated_at=_utc(doc.updated_at), online=rooms.online(doc.id),
                          role=role, owner_name=owner_name,
                          editors_can_share=doc.editors_can_share,
                          can_share=role == "owner" if can_share is None else can_share)


def create_with_content(engine, *, title: str, update: bytes,
                        owner_id: str | None = None) -> Document:
    """Create a document and store its first update (title, and any imported content)."""
    doc = store_docs.create_document(engine, title=title, owner_id=owner_id)
    append_updates(engine, [(doc.id, update)])
    return doc


@router.post("", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def create_document(body: DocumentCreate, engine: EngineDep, rooms: RoomsDep,
                          user: UserDep, indexer: SearchDep):
    doc = await asyncio.to_thread(create_with_content, engine, title=body.title,
                                  update=initial_update(body.title),
                                  owner_id=user.id if user else None)
    indexer.mark(doc.id)
    return public(doc, rooms, owner_name=user.display_name if user else None)


@router.get("", response_model=DocumentPage)
async def list_documents(
    engine: EngineDep,
    rooms: RoomsDep,
    user: UserDep,
    q: str | None = Query(default=None, max_length=200),
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
    sort: Literal["edited", "title", "created"] = "edited",
    whose: Literal["all", "mine", "shared"] = "all",
):
    """The documents you own or were invited to, each with its owner's name: newest edited
    first, by title or newest created first (`sort`); all, yours only, or only those shared
    with you (`whose`)."""
    rows, total = await asyncio.to_thread(store_docs.list_documents, engine, q=q, limit=limit,
                                          offset=offset, visible_to=user.id if user else None,
                                          sort=sort, whose=whose)
    docs = [doc for doc, _ in rows]
    items = [public(d, rooms, "owner" if user is None or d.owner_id == user.id else "invited",
                    owner_name=name)
             for d, name in rows]
    invited = [doc.id for item, doc in zip(items, docs, strict=True) if item.role == "invited"]
    if user is not None and invited:
        # invited documents: look their roles up, all at once (owners are known from the row)
        roles = await asyncio.to_thread(user_roles_on, engine, doc_ids=invited, user_id=user.id)
        for item, doc in zip(items, docs, strict=True):
            if item.role == "invited":
                item.role = max(roles[item.id], key=RANK.__getitem__, default="viewer")
                item.can_share = item.role == "editor" and doc.editors_can_share
    return DocumentPage(items=items, total=total)


async def _described(access, engine, rooms, doc: Document | None = None) -> DocumentPublic:
    """The document as `access`'s caller sees it, with its owner's name."""
    doc = doc or access.doc
    name = await asyncio.to_thread(store_docs.owner_name, engine, doc=doc)
    return public(doc, rooms, access.role, owner_name=name,
                  can_share=may_share(replace(access, doc=doc)))


@router.get("/{doc_id}", response_model=DocumentPublic)
async def get_document(doc_id: str, access: CanView, engine: EngineDep, rooms: RoomsDep):
    return await _described(access, engine, rooms)


@router.patch("/{doc_id}", response_model=DocumentPublic)
async def update_document(doc_id: str, body: DocumentUpdate, access: CanEdit, engine: EngineDep,
                          rooms: RoomsDep):
    """Rename (editors), and let editors share or not (`editors_can_share`: the owner only)."""
    if body.title is None and body.editors_can_share is None:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "Give a title, editors_can_share, or both")
    if body.editors_can_share is not None and access.role != "owner":
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "Only the owner decides whether editors can share")
    doc: Document | None = access.doc
    if body.title is not None:
        room = await rooms.with_room(doc_id)
        with room.doc.transaction():
            set_title(room.doc, body.title)
        await room.drain()
        doc = await asyncio.to_thread(store_docs.rename_document, engine, doc_id=doc_id,
                                      title=body.title)
    if body.editors_can_share is not None and doc is not None:
        doc = await asyncio.to_thread(store_docs.set_editors_can_share, engine, doc_id=doc_id,
                                      allowed=body.editors_can_share)
    if doc is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    return await _described(access, engine, rooms, doc)


@router.post("/{doc_id}/copy", status_code=status.HTTP_201_CREATED,
             response_model=DocumentPublic)
async def copy_document(doc_id: str, access: CanView, user: UserDep, engine: EngineDep,
                        rooms: RoomsDep, cpu: CpuDep, settings: SettingsDep, indexer: SearchDep,
                        body: DocumentCopy | None = None):
    """A copy you own of a document you can read: its text and formatting as they stand now
    (live if open), titled "Copy of <title>" unless `title` says otherwise, with its comments
    only if `comments`, and its images. Nobody else is invited to it."""
    body = body or DocumentCopy()
    title = body.title or f"Copy of {access.doc.title}"[:500]
    room = await rooms.with_room(doc_id)
    state = room.doc.get_update()  # read on the event loop; the copy is made on a thread
    new_id = store_docs.new_id()
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        update = await cpu.run_budgeted(budget, copy_state, state, source_id=doc_id,
                                        doc_id=new_id, title=title, comments=body.comments)
    if len(update) > settings.max_document_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The copy would take {len(update)} bytes; the limit is "
                            f"{settings.max_document_bytes} bytes")
    doc = await asyncio.to_thread(store_docs.copy_document, engine, source_id=doc_id,
                                  doc_id=new_id, title=title,
                                  owner_id=user.id if user else None, update=update)
    if doc is None:  # deleted meanwhile
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    indexer.mark(doc.id)
    return public(doc, rooms, owner_name=user.display_name if user else None)


@router.delete("/{doc_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_document(doc_id: str, access: IsOwner, engine: EngineDep, rooms: RoomsDep,
                          watch: AccessWatchDep):
    await rooms.discard(doc_id, CloseCode.GONE, "this document was deleted")
    await asyncio.to_thread(store_docs.delete_document, engine, doc_id=doc_id)
    await watch.doc_changed(doc_id)  # its connections on other processes close too (4410)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def content_of(state: bytes, deadline: Deadline) -> dict:
    """Plain text and editor JSON of a document given as its encoded state (a private copy)."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    json = fragment_to_json(doc, deadline)
    return {"text": json_text(json), "json": json}


@router.get("/{doc_id}/content", response_model=DocumentContent, response_model_by_alias=True)
async def document_content(doc_id: str, access: CanView, rooms: RoomsDep, cpu: CpuDep,
                           settings: SettingsDep):
    """The server's current copy: plain text and the editor's JSON (live if open)."""
    room = await rooms.with_room(doc_id)
    # Walking a large document takes seconds: not on the event loop, and not on the live Doc
    # (not thread-safe) but on a copy of its state.
    state = room.doc.get_update()
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        return await cpu.run_budgeted(budget, content_of, state)
