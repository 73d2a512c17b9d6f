"""Sign-in sessions kept server-side, so they can be revoked. Session ids arrive hashed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from storage.models import LoginSession, User, utcnow


def create_session(engine: Engine, *, session_hash: str, user_id: str,
                   expires_at: datetime) -> None:
    with Session(engine) as session:
        session.add(LoginSession(id=session_hash, user_id=user_id, expires_at=expires_at))
        session.commit()


def is_active(row: LoginSession, now: datetime | None = None) -> bool:
    expires = row.expires_at
    if expires.tzinfo is None:  # SQLite gives naive datetimes back (they were UTC)
        expires = expires.replace(tzinfo=UTC)
    return row.revoked_at is None and expires > (now or utcnow())


def revoke_session(engine: Engine, *, session_hash: str) -> bool:
    return bool(_revoke(engine, col(LoginSession.id) == session_hash))


def revoke_user_sessions(engine: Engine, *, user_id: str) -> int:
    """Revoke every session of an account ("sign out everywhere"); how many were live."""
    return _revoke(engine, col(LoginSession.user_id) == user_id)


def _revoke(engine: Engine, which: Any) -> int:
    """Mark the live sessions matching `which` revoked; how many there were."""
    with Session(engine) as session:
        result = session.exec(
            update(LoginSession)
            .where(which, col(LoginSession.revoked_at).is_(None))
            .values(revoked_at=utcnow()))
        session.commit()
        return int(result.rowcount)


def replace_password(engine: Engine, *, user_id: str, password_hash: str,
                     keep: str | None = None) -> int:
    """Set a new password hash and revoke every session of the account but `keep` (the one
    that asked), in one transaction; how many sessions were revoked."""
    with Session(engine) as session:
        user = session.get(User, user_id)
        if user is None:
            return 0
        user.password_hash = password_hash
        session.add(user)
        result = session.exec(
            update(LoginSession)
            .where(col(LoginSession.user_id) == user_id, col(LoginSession.revoked_at).is_(None),
                   col(LoginSession.id) != (keep or ""))
            .values(revoked_at=utcnow()))
        session.commit()
        return result.rowcount


def purge_sessions(engine: Engine, *, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sessions that expired or were revoked more than `older_than` ago."""
    cutoff = utcnow() - older_than
    with Session(engine) as session:
        result = session.exec(
            delete(LoginSession).where(or_(col(LoginSession.expires_at) < cutoff,
                                           col(LoginSession.revoked_at) < cutoff)))
        session.commit()
        return result.rowcount
