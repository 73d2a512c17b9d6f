"""Webhooks and their deliveries. Blocking functions: run them off the event loop."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Webhook, WebhookDelivery, utcnow

MAX_PER_DOCUMENT = 10
KEEP_DELIVERIES = 50  # per webhook: older finished ones are removed


def create_webhook(engine: Engine, *, doc_id: str, url: str, events: list[str],
                   created_by: str | None) -> Webhook:
    with Session(engine) as session:
        hook = Webhook(id=secrets.token_urlsafe(12), doc_id=doc_id, url=url, events=events,
                       secret=secrets.token_urlsafe(32), created_by=created_by)
        session.add(hook)
        session.commit()
        session.refresh(hook)
        return hook


def list_webhooks(engine: Engine, *, doc_id: str) -> list[Webhook]:
    with Session(engine) as session:
        return list(session.exec(select(Webhook).where(Webhook.doc_id == doc_id)
                                 .order_by(col(Webhook.created_at))).all())


def recent_deliveries(engine: Engine, *, webhook_id: str, limit: int = 10) -> list[WebhookDelivery]:
    with Session(engine) as session:
        return list(session.exec(select(WebhookDelivery)
                                 .where(WebhookDelivery.webhook_id == webhook_id)
                                 .order_by(col(WebhookDelivery.id).desc()).limit(limit)).all())


def delete_webhook(engine: Engine, *, doc_id: str, webhook_id: str) -> bool:
    with Session(engine) as session:
        hook = session.get(Webhook, webhook_id)
        if hook is None or hook.doc_id != doc_id:
            return False
        session.connection().execute(delete(WebhookDelivery)
                                     .where(col(WebhookDelivery.webhook_id) == webhook_id))
        session.delete(hook)
        session.commit()
        return True


def enqueue(engine: Engine, *, doc_id: str, event: str, payload: str) -> int:
    """A delivery of `payload` for every webhook of `doc_id` that wants `event`."""
    with Session(engine) as session:
        hooks = [h for h in session.exec(select(Webhook).where(Webhook.doc_id == doc_id))
                 if event in h.events]
        for hook in hooks:
            session.add(WebhookDelivery(webhook_id=hook.id, event=event, payload=payload))
        session.commit()
        return len(hooks)


def due(engine: Engine, *, lease: timedelta, limit: int = 50) -> list[tuple[WebhookDelivery, Webhook]]:
    """Pending deliveries whose time has come, oldest first, each claimed for `lease` (its next
    attempt moved that far on), so that another server process does not send it too."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:  # the rows are used after it
        rows = session.exec(
            select(WebhookDelivery, Webhook)
            .join(Webhook, col(Webhook.id) == col(WebhookDelivery.webhook_id))
            .where(WebhookDelivery.status == "pending",
                   col(WebhookDelivery.next_attempt_at) <= now)
            .order_by(col(WebhookDelivery.id)).limit(limit)
        ).all()
        claimed = []
        for delivery, hook in rows:
            taken = session.connection().execute(
                update(WebhookDelivery)
                .where(col(WebhookDelivery.id) == delivery.id,
                       col(WebhookDelivery.next_attempt_at) == delivery.next_attempt_at,
                       col(WebhookDelivery.status) == "pending")
                .values(next_attempt_at=now + lease)).rowcount
            if taken:
                claimed.append((delivery, hook))
        session.commit()
        return claimed


def record(engine: Engine, *, delivery_id: int, delivered: bool, status: int | None,
           error: str | None, retry_at: datetime | None) -> None:
    """The outcome of one attempt: delivered, to be retried at `retry_at`, or (neither) failed."""
    with Session(engine) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None:
            return
        delivery.attempts += 1
        delivery.last_status = status
        delivery.last_error = error[:300] if error else None
        if delivered:
            delivery.status, delivery.delivered_at = "delivered", utcnow()
        elif retry_at is not None:
            delivery.next_attempt_at = retry_at
        else:
            delivery.status = "failed"
        session.add(delivery)
        if delivery.status != "pending":  # keep the history short
            old = session.exec(
                select(WebhookDelivery.id)
                .where(WebhookDelivery.webhook_id == delivery.webhook_id,
                       WebhookDelivery.status != "pending")
                .order_by(col(WebhookDelivery.id).desc()).offset(KEEP_DELIVERIES)
            ).all()
            for old_id in old:
                stale = session.get(WebhookDelivery, old_id)
                if stale is not None:
                    session.delete(stale)
        session.commit()
