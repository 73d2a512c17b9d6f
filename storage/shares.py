"""Sharing: who may open a document, with which role (viewer, commenter, editor)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, or_
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Document, Share, User, utcnow

ROLES = ("viewer", "commenter", "editor")


def _aware(when: datetime | None) -> datetime | None:
    if when is None:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def is_active(share: Share, now: datetime | None = None) -> bool:
    return active(share.expires_at, share.revoked_at, now or utcnow())


def active(expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    expires = _aware(expires_at)
    return revoked_at is None and (expires is None or expires > now)


def create_share(engine: Engine, *, doc_id: str, role: str, created_by: str | None,
                 user_id: str | None = None, token_hash: str | None = None,
                 label: str | None = None, expires_at: datetime | None = None) -> Share:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    if (user_id is None) == (token_hash is None):
        raise ValueError("a share is either for a user or a link")
    with Session(engine) as session:
        if user_id is not None:
            # one invitation per person: a new role replaces the old one
            for old in session.exec(select(Share).where(
                    Share.doc_id == doc_id, Share.user_id == user_id,
                    col(Share.revoked_at).is_(None))):
                old.revoked_at = utcnow()
                session.add(old)
        share = Share(id=secrets.token_urlsafe(12), doc_id=doc_id, role=role, user_id=user_id,
                      token_hash=token_hash, label=label, created_by=created_by,
                      expires_at=expires_at)
        session.add(share)
        session.commit()
        session.refresh(share)
        return share


def list_shares(engine: Engine, *, doc_id: str) -> list[tuple[Share, User | None]]:
    with Session(engine) as session:
        rows = session.exec(
            select(Share, User).join(User, col(User.id) == col(Share.user_id), isouter=True)
            .where(Share.doc_id == doc_id, col(Share.revoked_at).is_(None))
            .order_by(col(Share.created_at))
        ).all()
        return [(s, u) for s, u in rows]


def revoke_share(engine: Engine, *, doc_id: str, share_id: str) -> bool:
    with Session(engine) as session:
        share = session.get(Share, share_id)
        if share is None or share.doc_id != doc_id or share.revoked_at is not None:
            return False
        share.revoked_at = utcnow()
        session.add(share)
        session.commit()
        return True


def user_roles(engine: Engine, *, doc_id: str, user_id: str) -> list[str]:
    """The roles active invitations give `user_id` on `doc_id`."""
    with Session(engine) as session:
        shares = session.exec(select(Share).where(Share.doc_id == doc_id,
                                                  Share.user_id == user_id)).all()
        return [s.role for s in shares if is_active(s)]


def user_roles_on(engine: Engine, *, doc_ids: list[str], user_id: str) -> dict[str, list[str]]:
    """For each of `doc_ids`, the roles active invitations give `user_id` (one query)."""
    found: dict[str, list[str]] = {doc_id: [] for doc_id in doc_ids}
    if not doc_ids:
        return found
    with Session(engine) as session:
        for share in session.exec(select(Share).where(col(Share.doc_id).in_(doc_ids),
                                                      Share.user_id == user_id)):
            if is_active(share):
                found[share.doc_id].append(share.role)
    return found


def visible_document_ids_clause(user_id: str) -> ColumnElement[bool]:
    """A WHERE clause: documents the user owns or was invited to (for the dashboard)."""
    invited = select(Share.doc_id).where(
        Share.user_id == user_id, col(Share.revoked_at).is_(None),
        or_(col(Share.expires_at).is_(None), col(Share.expires_at) > utcnow()),
    )
    return or_(col(Document.owner_id) == user_id, col(Document.id).in_(invited))
