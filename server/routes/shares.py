"""Sharing a document: invitations to accounts and share links, each with a role.

Only the owner manages sharing. Revoking closes, at once, the live connections of everyone who
lost access (terminal close code 4403 with a message for their page).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from crdt.protocol import CloseCode
from server.access import IsOwner, Principal, role_on
from server.deps import EngineDep, RoomsDep
from server.security import LINK_PREFIX, new_token, token_hash
from storage import accounts
from storage import shares as store_shares
from storage.models import utcnow

router = APIRouter(prefix="/api/docs/{doc_id}", tags=["sharing"])
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
async def list_shares(access: IsOwner, engine: EngineDep):
    rows = await asyncio.to_thread(store_shares.list_shares, engine, doc_id=access.doc.id)
    return [_public(s, u) for s, u in rows]


@router.post("/shares", status_code=status.HTTP_201_CREATED, response_model=SharePublic)
async def invite(body: InviteCreate, access: IsOwner, engine: EngineDep, rooms: RoomsDep):
    user = await asyncio.to_thread(accounts.get_user_by_username, engine, username=body.username)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"No account is called {body.username!r}")
    if user.id == access.doc.owner_id:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "That is the owner")
    share = await asyncio.to_thread(
        store_shares.create_share, engine, doc_id=access.doc.id, role=body.role,
        created_by=access.principal.user.id if access.principal.user else None,
        user_id=user.id, expires_at=_expiry(body.expires_in_days))
    await recheck_connections(engine, rooms, access.doc)  # a changed role applies at once
    return _public(share, user)


@router.post("/links", status_code=status.HTTP_201_CREATED, response_model=LinkCreated)
async def create_link(body: LinkCreate, request: Request, access: IsOwner, engine: EngineDep):
    """A share link: whoever holds the token gets `role` (`/d/{id}?token=...`, or
    `Authorization: Bearer <token>` / `?token=` for scripts and bots)."""
    token = new_token(LINK_PREFIX)
    share = await asyncio.to_thread(
        store_shares.create_share, engine, doc_id=access.doc.id, role=body.role,
        created_by=access.principal.user.id if access.principal.user else None,
        token_hash=token_hash(token), label=body.label, expires_at=_expiry(body.expires_in_days))
    url = str(request.base_url).rstrip("/") + f"/d/{access.doc.id}?token={token}"
    return LinkCreated(**_public(share, None).model_dump(), token=token, url=url)


@router.delete("/shares/{share_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke(share_id: str, access: IsOwner, engine: EngineDep, rooms: RoomsDep):
    if not await asyncio.to_thread(store_shares.revoke_share, engine, doc_id=access.doc.id,
                                   share_id=share_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such share")
    await recheck_connections(engine, rooms, access.doc)


async def recheck_connections(engine, rooms, doc) -> None:
    """Re-evaluate every live connection to `doc`: close those that lost access, and apply
    changed roles at once."""
    room = rooms.open_room(doc.id)
    if room is None:
        return
    for conn in list(room.connections):
        principal = conn.identity
        if not isinstance(principal, Principal):
            continue
        role = await asyncio.to_thread(_fresh_role, engine, principal, doc)
        if role is None:
            conn.close(CloseCode.FORBIDDEN,
                       "Your access to this document was removed by the owner")
        elif role != conn.role:
            # reconnect (not a terminal code): the page reads its new role and shows it
            conn.close(CloseCode.ROLE_CHANGED, "your role on this document changed")


def _fresh_role(engine, principal: Principal, doc) -> str | None:
    link = principal.link
    if link is not None:
        link = store_shares.get_share(engine, share_id=link.id)
    return role_on(engine, Principal(user=principal.user, link=link), doc)
