"""Accounts: sign up, sign in, sign out (JSON API and HTML forms), who am I, API tokens.

Sessions live in the database (storage/sessions.py): the signed cookie carries a random session
id, and every request and WebSocket checks its row. Signing out revokes this browser's row;
"sign out everywhere" revokes every row of the account; changing the password revokes every
other row (this browser stays signed in). Either way the account's open WebSockets on every
process are re-checked at once (server/liveaccess.py) and the revoked ones close with 4401.
Personal API tokens are not sessions: they stay until revoked one by one.

Passwords are hashed and checked in worker threads, a few at a time (`PasswordWork`); sign-ins
back off per username and per address (`LoginThrottle`), sign-ups are limited per address.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from server.access import Principal, PrincipalDep, UserDep, resolve
from server.deps import AccessWatchDep, EngineDep, client_address
from server.liveaccess import AccessWatch
from server.security import (
    PERSONAL_PREFIX,
    HashingBusy,
    account_problem,
    csrf_matches,
    new_token,
    token_hash,
    valid_email,
)
from server.sessions import csrf_token, end_session, login_redirect, start_session
from server.state import app_state
from server.templating import page_headers, templates
from storage import accounts, sessions
from storage.models import User

router = APIRouter(tags=["accounts"])


class Credentials(BaseModel):
    username: str = Field(min_length=2, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class SignUp(Credentials):
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)
    email: str | None = Field(default=None, max_length=254)  # for notification emails


class PasswordChange(BaseModel):
    current: str = Field(min_length=1, max_length=200)
    new: str = Field(min_length=8, max_length=200)


class Me(BaseModel):
    id: str
    username: str
    display_name: str


class TokenCreate(BaseModel):
    name: str = Field(default="script", max_length=100)


class TokenCreated(BaseModel):
    id: str
    name: str
    token: str


def me(user: User) -> Me:
    return Me(id=user.id, username=user.username, display_name=user.display_name)


def _busy() -> HTTPException:
    return HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                         "Many people are signing in right now. Try again in a moment.",
                         headers={"Retry-After": "1"})


def _wait_message(what: str, wait: int) -> str:
    return f"{what} Try again in {wait} second{'s' if wait != 1 else ''}."


async def check_login(request: Request, username: str, password: str) -> User:
    """The user for these credentials, or HTTPException 401, 429 (back-off) or 503 (busy)."""
    state = app_state(request)
    throttle = state.login_throttle
    address = client_address(request)
    wait = throttle.begin(username, address)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            _wait_message("Too many failed sign-ins.", wait),
                            headers={"Retry-After": str(wait)})
    ok: bool | None = None
    try:
        user = await asyncio.to_thread(accounts.get_user_by_username, state.engine,
                                       username=username)
        matches = await state.passwords.verify(user.password_hash if user else None, password)
        ok = user is not None and matches
    except HashingBusy as exc:
        raise _busy() from exc
    finally:
        throttle.end(username, address, ok=ok)
    if not ok:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong username or password.")
    assert user is not None
    return user


async def create_account(request: Request, username: str, password: str,
                         display_name: str | None, email: str | None = None) -> User:
    error = account_problem(username, password)
    email = (email or "").strip() or None
    if error is None and email is not None and not valid_email(email):
        error = "That does not look like an email address."
    if error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error)
    state = app_state(request)
    wait = state.signup_throttle.take(client_address(request))
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            _wait_message("Too many new accounts from your network.", wait),
                            headers={"Retry-After": str(wait)})
    try:
        password_hash = await state.passwords.hash(password)
    except HashingBusy as exc:
        raise _busy() from exc
    try:
        return await asyncio.to_thread(
            accounts.create_user, state.engine, username=username,
            display_name=(display_name or username).strip()[:100] or username,
            password_hash=password_hash, email=email)
    except accounts.UsernameTaken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "That username is taken.") from exc


async def change_password(request: Request, principal: Principal, current: str,
                          new: str) -> None:
    """Check the current password (a wrong one counts as a failed sign-in), store the new
    one and revoke every other session of the account, then close their live sockets."""
    user = principal.user
    if user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first")
    if len(new) < 8:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "Choose a password of at least 8 characters.")
    try:
        await check_login(request, user.username, current)
    except HTTPException as exc:
        if exc.status_code != status.HTTP_401_UNAUTHORIZED:
            raise
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "That is not your current password.") from exc
    state = app_state(request)
    try:
        password_hash = await state.passwords.hash(new)
    except HashingBusy as exc:
        raise _busy() from exc
    await asyncio.to_thread(sessions.replace_password, state.engine, user_id=user.id,
                            password_hash=password_hash, keep=principal.session)
    await state.access_watch.account_changed(user.id)


async def sign_out_everywhere(request: Request, user: User, watch: AccessWatch) -> None:
    """Revoke every session of the account (this browser's too) and close their sockets."""
    await asyncio.to_thread(sessions.revoke_user_sessions, app_state(request).engine,
                            user_id=user.id)
    request.session.clear()
    await watch.account_changed(user.id)


# ---- JSON API -------------------------------------------------------------------------------


@router.post("/api/auth/signup", status_code=status.HTTP_201_CREATED, response_model=Me)
async def signup_api(body: SignUp, request: Request):
    user = await create_account(request, body.username, body.password, body.display_name,
                                body.email)
    await start_session(request, user)
    return me(user)


@router.post("/api/auth/login", response_model=Me)
async def login_api(body: Credentials, request: Request):
    user = await check_login(request, body.username, body.password)
    await start_session(request, user)
    return me(user)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout_api(request: Request, principal: PrincipalDep):
    await end_session(request)


@router.post("/api/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_everywhere_api(request: Request, user: UserDep, watch: AccessWatchDep):
    """Sign out every browser of this account, this one included; their open documents close
    (4401) on every server process. Personal API tokens are kept (revoke them one by one)."""
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Accounts are switched off")
    await sign_out_everywhere(request, user, watch)


@router.post("/api/auth/password", status_code=status.HTTP_204_NO_CONTENT)
async def change_password_api(body: PasswordChange, request: Request, principal: PrincipalDep,
                              user: UserDep):
    """Change the password: every other browser of this account is signed out (this one stays
    signed in). A wrong `current` password counts as a failed sign-in."""
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Accounts are switched off")
    await change_password(request, principal, body.current, body.new)


@router.get("/api/auth/me", response_model=Me)
async def whoami(user: UserDep):
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Accounts are switched off")
    return me(user)


@router.post("/api/auth/tokens", status_code=status.HTTP_201_CREATED, response_model=TokenCreated)
async def create_api_token(body: TokenCreate, user: UserDep, engine: EngineDep):
    """A personal access token for scripts: send it as `Authorization: Bearer <token>`."""
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Accounts are switched off")
    token = new_token(PERSONAL_PREFIX)
    row = await asyncio.to_thread(accounts.add_api_token, engine, user_id=user.id,
                                  token_hash=token_hash(token), name=body.name)
    return TokenCreated(id=row.id, name=row.name, token=token)


@router.delete("/api/auth/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_token(token_id: str, user: UserDep, engine: EngineDep,
                           watch: AccessWatchDep):
    """Revoke a personal API token; connections it opened close (4401) on every process."""
    if user is None or not await asyncio.to_thread(accounts.revoke_api_token, engine,
                                                   user_id=user.id, token_id=token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such token")
    await watch.account_changed(user.id)


# ---- HTML forms -----------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # only same-site paths: never an open redirect
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _form_page(request: Request, name: str, *, error: str | None = None, code: int = 200,
               username: str = "", next_url: str = "/", display_name: str = "",
               email: str = "") -> HTMLResponse:
    return templates.TemplateResponse(
        request, name,
        {"error": error, "csrf_token": csrf_token(request), "username": username,
         "display_name": display_name[:100], "email": email[:254], "next": _safe_next(next_url)},
        status_code=code, headers=page_headers(),
    )


@router.get("/login", response_class=HTMLResponse, include_in_schema=False)
async def login_page(request: Request, next: str = "/"):
    return _form_page(request, "login.html", next_url=next)


@router.get("/signup", response_class=HTMLResponse, include_in_schema=False)
async def signup_page(request: Request, next: str = "/"):
    return _form_page(request, "signup.html", next_url=next)


Field_ = Annotated[str, Form()]


@router.post("/login", include_in_schema=False)
async def login_form(request: Request, username: Field_, password: Field_, csrf_token_: Annotated[
        str, Form(alias="csrf_token")] = "", next: Annotated[str, Form()] = "/"):
    if not csrf_matches(request.session.get("csrf"), csrf_token_):
        return _form_page(request, "login.html", error="The form expired. Please try again.",
                          code=403, username=username, next_url=next)
    try:
        user = await check_login(request, username, password)
    except HTTPException as exc:
        return _form_page(request, "login.html", error=exc.detail, code=exc.status_code,
                          username=username, next_url=next)
    await start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/signup", include_in_schema=False)
async def signup_form(request: Request, username: Field_, password: Field_,
                      display_name: Annotated[str, Form()] = "",
                      email: Annotated[str, Form(max_length=254)] = "",
                      csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
                      next: Annotated[str, Form()] = "/"):
    if not csrf_matches(request.session.get("csrf"), csrf_token_):
        return _form_page(request, "signup.html", error="The form expired. Please try again.",
                          code=403, username=username, next_url=next, display_name=display_name,
                          email=email)
    try:
        user = await create_account(request, username, password, display_name or None, email)
    except HTTPException as exc:  # the person keeps what they typed (but the password)
        return _form_page(request, "signup.html", error=exc.detail, code=exc.status_code,
                          username=username, next_url=next, display_name=display_name,
                          email=email)
    await start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout", include_in_schema=False)
async def logout_form(request: Request,
                      csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""):
    if csrf_matches(request.session.get("csrf"), csrf_token_):
        await end_session(request)
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/account", response_class=HTMLResponse, include_in_schema=False)
async def account_page(request: Request, principal: PrincipalDep):
    if principal.user is None:
        return login_redirect(request)
    return account_page_response(request, principal.user)


def account_page_response(request: Request, user: User, *, error: str | None = None,
                  done: str | None = None, code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "account.html",
        {"error": error, "done": done, "csrf_token": csrf_token(request),
         "user_name": user.display_name, "username": user.username, "email": user.email,
         "choice": user.email_notifications,
         "mail_on": bool(app_state(request).settings.smtp_url),
         "digest_minutes": round(app_state(request).settings.email_digest_seconds / 60)},
        status_code=code, headers=page_headers())


async def _form_principal(request: Request) -> Principal:
    """Who posts a form: by the session cookie only (the form's CSRF field was checked)."""
    return await asyncio.to_thread(resolve, app_state(request).engine,
                                   session_id=request.session.get("sid"), token=None)


async def account_form(request: Request, csrf_token_: str) -> Principal | Response:
    """Who posts a form of the account page, or where to send them instead: back to the page
    (a form without this session's CSRF token) or to sign in."""
    if not csrf_matches(request.session.get("csrf"), csrf_token_):
        return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)
    principal = await _form_principal(request)
    if principal.user is None:
        return login_redirect(request)
    return principal


@router.post("/account/password", include_in_schema=False)
async def change_password_form(request: Request, current_password: Field_, new_password: Field_,
                               csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""):
    principal = await account_form(request, csrf_token_)
    if isinstance(principal, Response) or principal.user is None:
        return principal
    try:
        await change_password(request, principal, current_password, new_password)
    except HTTPException as exc:
        return account_page_response(request, principal.user, error=exc.detail, code=exc.status_code)
    return account_page_response(request, principal.user,
                         done="Your password was changed. Every other browser was signed out.")


@router.post("/logout-all", include_in_schema=False)
async def logout_everywhere_form(request: Request, watch: AccessWatchDep,
                                 csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""):
    if not csrf_matches(request.session.get("csrf"), csrf_token_):
        return RedirectResponse("/account", status_code=status.HTTP_303_SEE_OTHER)
    principal = await _form_principal(request)
    if principal.user is not None:
        await sign_out_everywhere(request, principal.user, watch)
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)
