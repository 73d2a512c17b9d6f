"""REST: a document's version history — list, name the current state, show one, restore one."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pycrdt import Doc
from pydantic import BaseModel, Field, StringConstraints

from crdt.authors import AuthorRun
from crdt.budget import Deadline
from crdt.markdown import export_markdown, fragment_to_json, json_text
from crdt.meta import get_title
from crdt.rooms import RoomUnavailable
from crdt.text_diff import text_diff
from server.access import CanEdit, CanView
from server.cpu import refusals
from server.deps import CpuDep, EngineDep, RoomsDep, SettingsDep
from server.routes.authors import Authorship, runs_of
from server.routes.authors import public as authorship
from server.state import app_state
from server.versions import VersionKeeper, VersionUnavailable
from storage import versions as store
from storage.versions import VersionInfo

router = APIRouter(prefix="/api/docs/{doc_id}/versions", tags=["versions"])


def get_keeper(request: Request) -> VersionKeeper:
    return app_state(request).versions


KeeperDep = Annotated[VersionKeeper, Depends(get_keeper)]


class VersionCreate(BaseModel):
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class VersionAuthor(BaseModel):
    """Who edited: `id` is the account id ("link:<share id>" for a share link) and `username`
    the account's — both None for people without an account and for older versions."""

    id: str | None
    name: str
    username: str | None


class VersionPublic(BaseModel):
    id: int
    created_at: datetime
    name: str | None
    authors: list[str]  # display names, which two people may share: see `people`
    people: list[VersionAuthor]
    size: int  # bytes of the document's encoded state
    kind: Literal["auto", "named", "restore"]


class VersionPage(BaseModel):
    items: list[VersionPublic]
    total: int


class VersionDetail(VersionPublic):
    title: str | None
    json_: dict = Field(alias="json", serialization_alias="json")
    markdown: str
    text: str
    # word diff turning the current document's text into this version's:
    # "=" unchanged, "-" only in the current document, "+" only in this version
    diff: list[tuple[Literal["=", "+", "-"], str]]
    attribution: Authorship | None = None  # who wrote what in this version (issue 15)


class RestoreResult(BaseModel):
    before: VersionPublic  # the state just before the restore (restore it to undo)
    restored: VersionPublic  # the new state, equal to the chosen version


def public(info: VersionInfo) -> VersionPublic:
    return VersionPublic(id=info.id, created_at=info.created_at, name=info.name,
                         authors=info.authors,
                         people=[VersionAuthor(**p) for p in info.people], size=info.size,
                         kind=info.kind)


def _unavailable(exc: Exception) -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc) or "try again")


@router.get("", response_model=VersionPage)
async def list_versions(
    doc_id: str,
    access: CanView,
    engine: EngineDep,
    limit: int = Query(default=50, ge=1, le=200),
    offset: int = Query(default=0, ge=0),
):
    """Newest first."""
    items, total = await asyncio.to_thread(store.list_versions, engine, doc_id=doc_id,
                                           limit=limit, offset=offset)
    return VersionPage(items=[public(i) for i in items], total=total)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=VersionPublic)
async def name_version(doc_id: str, body: VersionCreate, access: CanEdit, keeper: KeeperDep,
                       request: Request):
    """Name the document's current state ("Sent to legal")."""
    try:
        version = public(await keeper.take(doc_id, kind="named", name=body.name))
    except (VersionUnavailable, RoomUnavailable) as exc:
        raise _unavailable(exc) from exc
    user = access.principal.user
    app_state(request).webhooks.emit(doc_id, "version.named", {
        "version": {"id": version.id, "name": body.name},
        "actor": {"id": user.id, "name": user.display_name, "username": user.username}
        if user else None})
    return version


def _render(info: VersionInfo, doc: Doc, current_state: bytes, *, diff_seconds: float,
            deadline: Deadline) -> tuple[VersionDetail, tuple[list[AuthorRun], dict]]:
    """The version view (on the CPU pool: `doc` is private, the live document a copy)."""
    current: Doc[Any] = Doc()
    current.apply_update(current_state)
    json = fragment_to_json(doc, deadline)
    text = json_text(json)
    # the diff gets coarser when its own budget is spent; the rest has the whole job's
    diff = text_diff(json_text(fragment_to_json(current, deadline)), text,
                     Deadline(min(diff_seconds, deadline.remaining())))
    # pydantic checks the diff's [op, text] pairs against the model's (op, text) tuples
    return VersionDetail.model_validate({
        **public(info).model_dump(),
        "title": get_title(doc),
        "json": json,
        "markdown": export_markdown(doc, deadline=deadline),
        "text": text,
        "diff": diff,
    }), runs_of(doc, deadline=deadline)


@router.get("/{version_id}", response_model=VersionDetail, response_model_by_alias=True)
async def get_version(doc_id: str, version_id: int, access: CanView, rooms: RoomsDep,
                      keeper: KeeperDep, cpu: CpuDep, settings: SettingsDep,
                      engine: EngineDep):
    """One version's content (editor JSON, Markdown, text) and its diff from the current text."""
    loaded = await keeper.load(doc_id, version_id)
    if loaded is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Version not found")
    try:
        room = await rooms.with_room(doc_id)
    except RoomUnavailable as exc:
        raise _unavailable(exc) from exc
    # the live doc is read on the event loop only; the work gets a copy of its state
    current_state = room.doc.get_update()
    info, doc = loaded
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        detail, (runs, names) = await cpu.run_budgeted(
            budget, _render, info, doc, current_state, diff_seconds=settings.diff_budget_seconds)
    detail.attribution = await authorship(engine, runs, names)
    return detail


@router.post("/{version_id}/restore", response_model=RestoreResult)
async def restore_version(doc_id: str, version_id: int, access: CanEdit, keeper: KeeperDep):
    """Make the document equal to this version, as a new change that everyone receives."""
    try:
        with refusals(keeper.restore_budget or 0):
            result = await keeper.restore(doc_id, version_id)
    except (VersionUnavailable, RoomUnavailable) as exc:
        raise _unavailable(exc) from exc
    if result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Version not found")
    before, restored = result
    return RestoreResult(before=public(before), restored=public(restored))
