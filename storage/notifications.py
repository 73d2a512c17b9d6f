"""Notifications: written once per event and recipient, listed, counted, marked read, and picked
up for email digests. Blocking functions: run them off the event loop."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Document, Notification, User, utcnow

KINDS = ("mention", "reply", "assigned", "share")
# which kinds each email choice sends ("mentions": what names you — mentions, assignments,
# invitations — not replies)
EMAIL_KINDS = {"all": set(KINDS), "mentions": {"mention", "assigned", "share"}, "none": set()}
QUOTE_CHARS = 300


@dataclass(frozen=True)
class Event:
    """One thing that happened, for one recipient."""

    user_id: str
    doc_id: str
    kind: str
    event_key: str
    actor_id: str | None = None
    actor_name: str = ""
    thread_id: str | None = None
    quote: str = ""
    excerpt: str = ""


def clip(text: str, limit: int = QUOTE_CHARS) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def add(engine: Engine, events: Iterable[Event]) -> list[str]:
    """Write `events`, skipping any already written (the same event seen by another process).
    Returns the ids of the people who got a new notification."""
    rows: list[dict[str, Any]] = [{
        "user_id": e.user_id, "doc_id": e.doc_id, "kind": e.kind, "event_key": e.event_key[:200],
        "actor_id": e.actor_id, "actor_name": e.actor_name[:100], "thread_id": e.thread_id,
        "quote": clip(e.quote), "excerpt": clip(e.excerpt), "created_at": utcnow(),
    } for e in events]
    if not rows:
        return []
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    notified: list[str] = []
    with engine.begin() as conn:
        for row in rows:
            stmt = insert(Notification).values(**row).on_conflict_do_nothing(
                index_elements=["user_id", "event_key"])
            if conn.execute(stmt).rowcount:
                notified.append(row["user_id"])
    return notified


def add_new_highs(engine: Engine, events: Iterable[Event]) -> list[str]:
    """Write the events whose key ends in a count (`<prefix>:<n>`) higher than any written for
    the same person and prefix: a mention in a text counted anew on every read."""
    fresh = []
    with Session(engine) as session:
        for event in events:
            prefix, _, count = event.event_key.rpartition(":")
            keys = session.exec(select(Notification.event_key).where(
                Notification.user_id == event.user_id,
                col(Notification.event_key).startswith(prefix + ":"))).all()
            best = max((int(k.rpartition(":")[2]) for k in keys
                        if k.rpartition(":")[2].isdigit()), default=0)
            if count.isdigit() and int(count) > best:
                fresh.append(event)
    return add(engine, fresh)


def list_for(engine: Engine, *, user_id: str, limit: int = 50,
             before: int | None = None) -> list[tuple[Notification, str]]:
    """A person's notifications, newest first, with their document's title."""
    with Session(engine) as session:
        query = (select(Notification, Document.title)
                 .join(Document, col(Document.id) == col(Notification.doc_id))
                 .where(Notification.user_id == user_id))
        if before is not None:
            query = query.where(col(Notification.id) < before)
        return [(n, title) for n, title in
                session.exec(query.order_by(col(Notification.id).desc()).limit(limit)).all()]


def unread_count(engine: Engine, *, user_id: str) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(Notification).where(
            Notification.user_id == user_id, col(Notification.read_at).is_(None))).one()


def mark_read(engine: Engine, *, user_id: str, ids: list[int] | None = None) -> int:
    """Mark some (`ids`) or all of a person's unread notifications read; others' are untouched."""
    stmt = (update(Notification)
            .where(col(Notification.user_id) == user_id, col(Notification.read_at).is_(None))
            .values(read_at=utcnow()))
    if ids is not None:
        stmt = stmt.where(col(Notification.id).in_(ids))
    with engine.begin() as conn:
        return conn.execute(stmt).rowcount


@dataclass(frozen=True)
class Digest:
    user: User
    items: list[tuple[Notification, str]]  # with the document's title, oldest first


def due_digests(engine: Engine, *, older_than: datetime) -> list[Digest]:
    """People with an email address and unread, not yet emailed notifications of a kind they
    chose, the oldest of which was made before `older_than`: one digest each."""
    with Session(engine) as session:
        rows = session.exec(
            select(Notification, Document.title, User)
            .join(Document, col(Document.id) == col(Notification.doc_id))
            .join(User, col(User.id) == col(Notification.user_id))
            .where(col(Notification.emailed_at).is_(None), col(Notification.read_at).is_(None),
                   col(User.email).is_not(None),
                   or_(col(User.email_notifications) == "all",
                       (col(User.email_notifications) == "mentions")
                       & col(Notification.kind).in_(sorted(EMAIL_KINDS["mentions"]))))
            .order_by(col(Notification.id))
        ).all()
    by_user: dict[str, Digest] = {}
    for note, title, user in rows:
        if note.kind not in EMAIL_KINDS.get(user.email_notifications, set()):
            continue
        by_user.setdefault(user.id, Digest(user, [])).items.append((note, title))
    return [d for d in by_user.values() if d.items[0][0].created_at <= older_than]


def mark_emailed(engine: Engine, *, ids: list[int]) -> None:
    with engine.begin() as conn:
        conn.execute(update(Notification).where(col(Notification.id).in_(ids))
                     .values(emailed_at=utcnow()))


def set_email(engine: Engine, *, user_id: str, email: str | None,
              choice: str | None = None) -> User | None:
    """Change a person's email address and/or which notifications are emailed."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            return None
        user.email = email
        if choice is not None:
            if choice not in EMAIL_KINDS:
                raise ValueError(f"email_notifications must be one of {sorted(EMAIL_KINDS)}")
            user.email_notifications = choice
        session.add(user)
        session.commit()
        session.refresh(user)
        return user


def set_choice(engine: Engine, *, user_id: str, choice: str) -> bool:
    if choice not in EMAIL_KINDS:
        raise ValueError(f"email_notifications must be one of {sorted(EMAIL_KINDS)}")
    with engine.begin() as conn:
        return bool(conn.execute(update(User).where(col(User.id) == user_id)
                                 .values(email_notifications=choice)).rowcount)
