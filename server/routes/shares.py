"""Sharing a document: invitations to accounts and share links, each with a role.

The owner manages sharing, and so do editors signed in with an account when the owner lets
them (`editors_can_share`, set with PATCH /api/docs/{id}): a role is at most editor, so nobody
can make another owner, and the owner is never a share to change or revoke. Revoking closes, at once and on every server process, the live
connections of everyone who lost access (terminal close code 4403 with a message for their
page); a changed role makes them reconnect (3001). See server/liveaccess.py.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from server.access import CanComment, CanShare
from server.deps import AccessWatchDep, EngineDep, NotifierDep, SettingsDep
from server.security import LINK_PREFIX, new_token, token_hash
from storage import accounts
from storage import shares as store_shares
from storage.models import utcnow

router = APIRouter(prefix="/api/docs/{doc_id}", tags=["sharing"])
# what a share may grant: never "owner" (a document has one owner, its creator)
Role = Literal["viewer", "commenter", "editor"]


class InviteCreate(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    role: Role
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)


class LinkCreate(BaseModel):
    role: Role
    expires_in_days: float | None = Field(default=None, gt=0, le=3650)
    label: str | None = Field(default=None, max_length=100)


class SharePublic(BaseModel):
    id: str
    kind: Literal["user", "link"]
    role: str
    username: str | None = None
    display_name: str | None = None
    label: str | None = None
    created_at: datetime
    expires_at: datetime | None = None


class LinkCreated(SharePublic):
    token: str
    url: str


def _public(share, user) -> SharePublic:
    return SharePublic(id=share.id, kind="user" if share.user_id else "link", role=share.role,
                       username=user.username if user else None,
                       display_name=user.display_name if user else None, label=share.label,
                       created_at=share.created_at, expires_at=share.expires_at)


def _expiry(days: float | None) -> datetime | None:
    return utcnow() + timedelta(days=days) if days else None


@router.get("/shares", response_model=list[SharePublic])
async def list_shares(access: CanShare, engine: EngineDep):
    rows = await asyncio.to_thread(store_shares.list_shares, engine, doc_id=access.doc.id)
    return [_public(s, u) for s, u in rows]


class PersonPublic(BaseModel):
    id: str
    username: str
    display_name: str
    role: str


@router.get("/people", response_model=list[PersonPublic])
async def list_people(access: CanComment, engine: EngineDep):
    """The accounts that can read the document (owner first), for @mention suggestions: anyone
    who may comment sees who they can mention."""

    def read() -> list[PersonPublic]:
        people: dict[str, PersonPublic] = {}
        owner = accounts.get_user(engine, user_id=access.doc.owner_id) if access.doc.owner_id else None
        if owner is not None:
            people[owner.id] = PersonPublic(id=owner.id, username=owner.username,
                                            display_name=owner.display_name, role="owner")
        for share, user in store_shares.list_shares(engine, doc_id=access.doc.id):
            if user is not None and user.id not in people and store_shares.is_active(share):
                people[user.id] = PersonPublic(id=user.id, username=user.username,
                                               display_name=user.display_name, role=share.role)
        return list(people.values())

    return await asyncio.to_thread(read)


@router.post("/shares", status_code=status.HTTP_201_CREATED, response_model=SharePublic)
async def invite(body: InviteCreate, access: CanShare, engine: EngineDep, watch: AccessWatchDep,
                 notifier: NotifierDep):
    user = await asyncio.to_thread(accounts.get_user_by_username, engine, username=body.username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No account is called {body.username!r}")
    if user.id == access.doc.owner_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "That is the owner")
    share = await asyncio.to_thread(
        store_shares.create_share, engine, doc_id=access.doc.id, role=body.role,
        created_by=access.principal.user.id if access.principal.user else None,
        user_id=user.id, expires_at=_expiry(body.expires_in_days))
    await watch.doc_changed(access.doc.id)  # a changed role applies at once
    await notifier.shared(access.doc, user_id=user.id, role=body.role, share_id=share.id,
                          by_id=access.principal.user.id if access.principal.user else None)
    return _public(share, user)


@router.post("/links", status_code=status.HTTP_201_CREATED, response_model=LinkCreated)
async def create_link(body: LinkCreate, request: Request, access: CanShare, engine: EngineDep,
                      settings: SettingsDep):
    """A share link: whoever holds the token gets `role` (`/d/{id}?token=...`, or
    `Authorization: Bearer <token>` / `?token=` for scripts and bots)."""
    token = new_token(LINK_PREFIX)
    share = await asyncio.to_thread(
        store_shares.create_share, engine, doc_id=access.doc.id, role=body.role,
        created_by=access.principal.user.id if access.principal.user else None,
        token_hash=token_hash(token), label=body.label, expires_at=_expiry(body.expires_in_days))
    base = settings.public_url or str(request.base_url)  # QUIRE_PUBLIC_URL when set
    url = base.rstrip("/") + f"/d/{access.doc.id}?token={token}"
    return LinkCreated(**_public(share, None).model_dump(), token=token, url=url)


@router.delete("/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(share_id: str, access: CanShare, engine: EngineDep, watch: AccessWatchDep):
    if not await asyncio.to_thread(store_shares.revoke_share, engine, doc_id=access.doc.id,
                                   share_id=share_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such share")
    await watch.doc_changed(access.doc.id)
