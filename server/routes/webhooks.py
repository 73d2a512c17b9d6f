"""REST: a document's webhooks (the owner's): make one (its secret is shown once), list them
with their last deliveries, remove one. See server/webhooks.py for what is sent."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, Field

from server.access import IsOwner
from server.deps import EngineDep
from server.state import app_state
from server.webhooks import MAX_URL, BadUrl, check_url
from storage import webhooks as store

router = APIRouter(prefix="/api/docs/{doc_id}/webhooks", tags=["webhooks"])
Event = Literal["comment.created", "comment.replied", "comment.resolved", "mention",
                "version.named"]


class WebhookCreate(BaseModel):
    url: str = Field(min_length=1, max_length=MAX_URL)
    events: list[Event] = Field(min_length=1, max_length=5)


class DeliveryPublic(BaseModel):
    id: int
    event: str
    status: str  # pending | delivered | failed
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class WebhookPublic(BaseModel):
    id: str
    url: str
    events: list[str]
    created_at: datetime
    deliveries: list[DeliveryPublic] = []


class WebhookCreated(WebhookPublic):
    secret: str  # shown this once: verify X-Quire-Signature with it


def _public(hook, deliveries=()) -> WebhookPublic:
    return WebhookPublic(id=hook.id, url=hook.url, events=hook.events, created_at=hook.created_at,
                         deliveries=[DeliveryPublic.model_validate(d, from_attributes=True)
                                     for d in deliveries])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookCreated)
async def create_webhook(body: WebhookCreate, request: Request, access: IsOwner,
                         engine: EngineDep):
    settings = app_state(request).settings
    try:
        await asyncio.to_thread(check_url, body.url, allow_private=settings.webhook_allow_private)
    except BadUrl as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"Not this URL: {exc}") from exc
    existing = await asyncio.to_thread(store.list_webhooks, engine, doc_id=access.doc.id)
    if len(existing) >= store.MAX_PER_DOCUMENT:
        raise HTTPException(status.HTTP_409_CONFLICT,
                            f"A document has at most {store.MAX_PER_DOCUMENT} webhooks.")
    hook = await asyncio.to_thread(
        store.create_webhook, engine, doc_id=access.doc.id, url=body.url,
        events=sorted(set(body.events)),
        created_by=access.principal.user.id if access.principal.user else None)
    return WebhookCreated(**_public(hook).model_dump(), secret=hook.secret)


@router.get("", response_model=list[WebhookPublic])
async def list_webhooks(access: IsOwner, engine: EngineDep):
    def read() -> list[WebhookPublic]:
        return [_public(h, store.recent_deliveries(engine, webhook_id=h.id))
                for h in store.list_webhooks(engine, doc_id=access.doc.id)]

    return await asyncio.to_thread(read)


@router.delete("/{webhook_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_webhook(webhook_id: str, access: IsOwner, engine: EngineDep):
    if not await asyncio.to_thread(store.delete_webhook, engine, doc_id=access.doc.id,
                                   webhook_id=webhook_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such webhook")
