"""storage/sessions.py on SQLite and PostgreSQL: a session is live until it expires or is
revoked; revoking one, all of an account, or all but one (a new password)."""

from __future__ import annotations

import secrets
from datetime import timedelta

from storage import accounts, sessions
from storage.db import make_engine
from storage.models import utcnow
from storage.opening import sign_ins_for


def new_session(engine, user_id: str, *, lasts: timedelta = timedelta(hours=1)) -> str:
    session_hash = secrets.token_hex(32)
    sessions.create_session(engine, session_hash=session_hash, user_id=user_id,
                            expires_at=utcnow() + lasts)
    return session_hash


def live_user(engine, session_hash: str):
    """The account of the session, if it is live (as every sign-in is read)."""
    with engine.connect() as conn:
        return sign_ins_for(conn, sessions=[session_hash]).sessions.get(session_hash)


def test_sessions_live_expire_and_are_revoked(db_url):
    engine = make_engine(db_url)
    user = accounts.create_user(engine, username=f"s-{secrets.token_hex(4)}", display_name="S",
                                password_hash="old")
    laptop, phone, tablet = (new_session(engine, user.id) for _ in range(3))
    expired = new_session(engine, user.id, lasts=timedelta(seconds=-1))
    assert live_user(engine, laptop).id == user.id
    assert live_user(engine, expired) is None
    assert live_user(engine, "no such session") is None

    assert sessions.revoke_session(engine, session_hash=tablet)
    assert not sessions.revoke_session(engine, session_hash=tablet)  # once
    assert live_user(engine, tablet) is None

    # a new password: every other session ends, in the same transaction
    assert sessions.replace_password(engine, user_id=user.id, password_hash="new",
                                     keep=laptop) == 2  # phone and the expired one
    assert accounts.get_user(engine, user_id=user.id).password_hash == "new"
    assert live_user(engine, laptop) is not None
    assert live_user(engine, phone) is None

    # sign out everywhere
    assert sessions.revoke_user_sessions(engine, user_id=user.id) == 1
    assert live_user(engine, laptop) is None
    assert sessions.purge_sessions(engine, older_than=timedelta(seconds=-5)) >= 4
    engine.dispose()
