"""Accounts: sign up, sign in, sign out (JSON API and HTML forms), who am I, API tokens."""

from __future__ import annotations

import asyncio
import re
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from server.access import PrincipalDep, UserDep
from server.deps import EngineDep
from server.security import (
    DUMMY_HASH,
    PERSONAL_PREFIX,
    csrf_matches,
    hash_password,
    new_csrf_token,
    new_token,
    token_hash,
    verify_password,
)
from storage import accounts
from storage.models import User

router = APIRouter(tags=["accounts"])
USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")


class Credentials(BaseModel):
    username: str = Field(min_length=2, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class SignUp(Credentials):
    password: str = Field(min_length=8, max_length=200)
    display_name: str | None = Field(default=None, max_length=100)


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


def csrf_token(request: Request) -> str:
    """This session's CSRF token (made on first use); pages put it in a meta tag."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = new_csrf_token()
    return token


def start_session(request: Request, user: User) -> None:
    request.session.clear()
    request.session["uid"] = user.id
    request.session["csrf"] = new_csrf_token()


def client_address(request: Request) -> str:
    return request.client.host if request.client else "?"


def validate_signup(username: str, password: str) -> str | None:
    if not USERNAME.match(username):
        return "Usernames are 2–40 letters, digits, dots, dashes or underscores."
    if len(password) < 8:
        return "Choose a password of at least 8 characters."
    return None


async def check_login(request: Request, username: str, password: str) -> User:
    """The user for these credentials, or HTTPException 401/429 (with throttling)."""
    throttle = request.app.state.login_throttle
    keys = (f"user:{username.lower()}", f"addr:{client_address(request)}")
    wait = throttle.retry_after(*keys)
    if wait:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS,
                            f"Too many failed sign-ins. Try again in {wait} seconds.",
                            headers={"Retry-After": str(wait)})
    engine = request.app.state.engine

    def lookup() -> User | None:
        user = accounts.get_user_by_username(engine, username=username)
        ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
        return user if user is not None and ok else None

    user = await asyncio.to_thread(lookup)
    if user is None:
        throttle.failed(*keys)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Wrong username or password.")
    throttle.succeeded(*keys)
    return user


async def create_account(engine, username: str, password: str, display_name: str | None) -> User:
    error = validate_signup(username, password)
    if error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, error)
    try:
        return await asyncio.to_thread(
            accounts.create_user, engine, username=username,
            display_name=(display_name or username).strip()[:100] or username,
            password_hash=hash_password(password))
    except accounts.UsernameTaken as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, "That username is taken.") from exc


# ---- JSON API -------------------------------------------------------------------------------


@router.post("/api/auth/signup", status_code=status.HTTP_201_CREATED, response_model=Me)
async def signup_api(body: SignUp, request: Request, engine: EngineDep):
    user = await create_account(engine, body.username, body.password, body.display_name)
    start_session(request, user)
    return me(user)


@router.post("/api/auth/login", response_model=Me)
async def login_api(body: Credentials, request: Request):
    user = await check_login(request, body.username, body.password)
    start_session(request, user)
    return me(user)


@router.post("/api/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout_api(request: Request, principal: PrincipalDep):
    request.session.clear()


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
async def revoke_api_token(token_id: str, user: UserDep, engine: EngineDep):
    if user is None or not await asyncio.to_thread(accounts.revoke_api_token, engine,
                                                   user_id=user.id, token_id=token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such token")


# ---- HTML forms -----------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    # only same-site paths: never an open redirect
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _form_page(request: Request, name: str, *, error: str | None = None, code: int = 200,
               username: str = "", next_url: str = "/") -> HTMLResponse:
    from server.routes.pages import page_headers, templates

    return templates.TemplateResponse(
        request, name,
        {"error": error, "csrf_token": csrf_token(request), "username": username,
         "next": _safe_next(next_url)},
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
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/signup", include_in_schema=False)
async def signup_form(request: Request, engine: EngineDep, username: Field_, password: Field_,
                      display_name: Annotated[str, Form()] = "",
                      csrf_token_: Annotated[str, Form(alias="csrf_token")] = "",
                      next: Annotated[str, Form()] = "/"):
    if not csrf_matches(request.session.get("csrf"), csrf_token_):
        return _form_page(request, "signup.html", error="The form expired. Please try again.",
                          code=403, username=username, next_url=next)
    try:
        user = await create_account(engine, username, password, display_name or None)
    except HTTPException as exc:
        return _form_page(request, "signup.html", error=exc.detail, code=exc.status_code,
                          username=username, next_url=next)
    start_session(request, user)
    return RedirectResponse(_safe_next(next), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/logout", include_in_schema=False)
async def logout_form(request: Request,
                      csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""):
    if csrf_matches(request.session.get("csrf"), csrf_token_):
        request.session.clear()
    return RedirectResponse("/login", status_code=status.HTTP_303_SEE_OTHER)


def login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=status.HTTP_303_SEE_OTHER)
