"""A browser's session: its cookie-held id (a row in the database, revocable), its CSRF token, and
the redirect to sign in. Shared by the account routes and the pages (no import between them)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta
from urllib.parse import quote

from fastapi import Request, status
from fastapi.responses import RedirectResponse

from server.security import new_csrf_token, token_hash
from server.state import app_state
from storage import sessions
from storage.models import User, utcnow


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); pages put it in a meta tag."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


async def start_session(request: Request, user: User) -> None:
    """Sign this browser in as `user`: a new session row, and its random id in the cookie
    (a new id on every sign-in; the one the browser had before is revoked)."""
    state = app_state(request)
    old = request.session.get("sid")
    if isinstance(old, str):
        await asyncio.to_thread(sessions.revoke_session, state.engine, session_hash=token_hash(old))
        state.access_cache.clear()  # nobody may open a socket with the old id any more
    session_id = secrets.token_urlsafe(32)
    await asyncio.to_thread(
        sessions.create_session, state.engine, session_hash=token_hash(session_id),
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=state.settings.session_max_age))
    request.session.clear()
    request.session["sid"] = session_id
    request.session["csrf"] = new_csrf_token()


async def end_session(request: Request) -> None:
    """Sign this browser out: revoke its session row and empty its cookie."""
    session_id = request.session.get("sid")
    if isinstance(session_id, str):
        await asyncio.to_thread(sessions.revoke_session, app_state(request).engine,
                                session_hash=token_hash(session_id))
        app_state(request).access_cache.clear()
    request.session.clear()



def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=status.HTTP_303_SEE_OTHER)
