"""Who is asking, and what may they do with a document.

A principal comes from the signed session cookie (a random session id whose row in
`login_session` must be live: see storage/sessions.py), a personal API token
(`Authorization: Bearer qp_...` or `?token=qp_...`) or a share-link token (`qs_...`). Roles
rank viewer < commenter < editor < owner; a document's owner is its creator; invitations and
links grant the others. Who a cookie or token stands for is decided in `principal_from` and
a role in `role_from`: REST routes (`resolve`, `role_on`), WebSocket handshakes
(server/opener.py) and the re-check of open sockets (server/liveaccess.py) all go through them,
so the same rules hold everywhere. Sharing is the owner's, and editors' too when the owner allows it
(`CanShare`): they grant at most editor, and never change that setting.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from sqlalchemy.engine import Engine

from server.security import LINK_PREFIX, PERSONAL_PREFIX, csrf_matches, token_hash
from server.state import app_state
from storage import documents as store_docs
from storage import shares
from storage.models import Document, Share, User
from storage.opening import AccessFacts, SignIns, sign_ins_for

RANK = {"viewer": 1, "commenter": 2, "editor": 3, "owner": 4}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Principal:
    user: User | None = None
    link: Share | None = None  # the share a link token stands for
    via_session: bool = False
    # what vouched for `user`, so live connections can be re-checked (see server.liveaccess):
    session: str | None = None  # the hash of the session id in the cookie
    api_token: str | None = None  # the hash of the personal API token

    @property
    def anonymous(self) -> bool:
        return self.user is None and self.link is None

    @property
    def name(self) -> str | None:
        return self.user.display_name if self.user else None

    @property
    def account(self) -> str | None:
        """Who this is where ownership matters (comments): the account id, or "link:<share
        id>" for someone holding a share link."""
        if self.user is not None:
            return self.user.id
        return f"link:{self.link.id}" if self.link is not None else None


def bearer_token(authorization: str | None, query_token: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return query_token or None


def resolve(engine: Engine, *, session_id: str | None, token: str | None) -> Principal:
    """Who sends `token` and/or the session cookie's `session_id`. Blocking: run in a thread."""
    with engine.connect() as conn:
        found = sign_ins_for(conn, **asked_of([(session_id, token)]))
    return principal_from(session_id, token, found)


def asked_of(credentials: list[tuple[str | None, str | None]]) -> dict[str, list[str]]:
    """What `storage.opening.sign_ins_for` must read for these (session id, token) pairs."""
    asked: dict[str, dict[str, None]] = {"sessions": {}, "tokens": {}, "links": {}}
    for session_id, token in dict.fromkeys(credentials):  # each once, in order
        if token and token.startswith(PERSONAL_PREFIX):
            asked["tokens"][token_hash(token)] = None
        elif token and token.startswith(LINK_PREFIX):
            asked["links"][token_hash(token)] = None
        if session_id:
            asked["sessions"][token_hash(session_id)] = None
    return {kind: list(hashes) for kind, hashes in asked.items()}


def principal_from(session_id: str | None, token: str | None, found: SignIns) -> Principal:
    """Who sends `token` and/or the cookie's `session_id`, by what `found` holds (read for them:
    see `asked_of`). A personal token speaks for its account before the cookie does."""
    user = link = api_token = session = None
    if token and token.startswith(PERSONAL_PREFIX):
        user = found.tokens.get(token_hash(token))
        api_token = token_hash(token) if user is not None else None
    elif token and token.startswith(LINK_PREFIX):
        link = found.links.get(token_hash(token))
    if user is None and session_id:
        user = found.sessions.get(token_hash(session_id))
        session = token_hash(session_id) if user is not None else None
    return Principal(user=user, link=link, via_session=session is not None, session=session,
                     api_token=api_token)


def role_on(engine: Engine, principal: Principal, doc: Document) -> str | None:
    """The best role `principal` has on `doc`, or None. Blocking: run in a thread."""
    invited: list[str] = []
    if principal.user is not None and doc.owner_id != principal.user.id:
        invited = shares.user_roles(engine, doc_id=doc.id, user_id=principal.user.id)
    return role_from(principal, doc.id, AccessFacts(owner_id=doc.owner_id, invited=invited))


def role_from(principal: Principal, doc_id: str, facts: AccessFacts) -> str | None:
    """The best role `principal` has on document `doc_id`, whose owner and the principal's
    invitations are `facts` (the one place the rules are written)."""
    if principal.user is not None and facts.owner_id == principal.user.id:
        return "owner"
    roles = list(facts.invited) if principal.user is not None else []
    if principal.link is not None and principal.link.doc_id == doc_id:
        if shares.is_active(principal.link):
            roles.append(principal.link.role)
    return max(roles, key=RANK.__getitem__, default=None)


def at_least(role: str | None, needed: str) -> bool:
    return role is not None and RANK[role] >= RANK[needed]


# ---- FastAPI dependencies -------------------------------------------------------------------


async def current_principal(request: Request) -> Principal:
    state = app_state(request)
    if not state.settings.auth_required:
        return Principal()
    token = bearer_token(request.headers.get("authorization"), request.query_params.get("token"))
    principal = await asyncio.to_thread(resolve, state.engine,
                                        session_id=request.session.get("sid"), token=token)
    if principal.via_session and request.method not in SAFE_METHODS:
        if not csrf_matches(request.session.get("csrf"), request.headers.get("x-csrf-token")):
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                "Missing or wrong CSRF token: reload the page and try again")
    return principal


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def signed_in_user(request: Request, principal: PrincipalDep) -> User | None:
    """The signed-in account (401 without one); None when auth is switched off."""
    if not app_state(request).settings.auth_required:
        return None
    if principal.user is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first",
                            headers={"WWW-Authenticate": "Bearer"})
    return principal.user


UserDep = Annotated[User | None, Depends(signed_in_user)]


@dataclass(frozen=True)
class Access:
    doc: Document
    role: str
    principal: Principal

    @property
    def author_name(self) -> str | None:
        return self.principal.name


async def document_access(request: Request, doc_id: str, principal: Principal,
                          needed: str) -> Access:
    engine = app_state(request).engine

    def lookup() -> tuple[Document | None, str | None]:
        doc = store_docs.get_document(engine, doc_id=doc_id)
        if doc is None or not app_state(request).settings.auth_required:
            return doc, "owner" if doc is not None else None
        return doc, role_on(engine, principal, doc)

    doc, role = await asyncio.to_thread(lookup)
    if doc is None or role is None:
        if principal.anonymous and app_state(request).settings.auth_required:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "Sign in first",
                                headers={"WWW-Authenticate": "Bearer"})
        # no role: say "not found" so ids of others' documents cannot be probed
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    if not at_least(role, needed):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            f"You need {needed} access to do this (you have {role} access)")
    return Access(doc=doc, role=role, principal=principal)


def need(role: str):
    async def dependency(request: Request, doc_id: str, principal: PrincipalDep) -> Access:
        return await document_access(request, doc_id, principal, role)

    return Depends(dependency)


CanView = Annotated[Access, need("viewer")]
CanComment = Annotated[Access, need("commenter")]
CanEdit = Annotated[Access, need("editor")]
IsOwner = Annotated[Access, need("owner")]


def may_share(access: Access) -> bool:
    """Whether the caller may invite people and make or revoke links: the owner, and editors
    with an account when the owner lets editors share (`Document.editors_can_share`)."""
    if access.role == "owner":
        return True
    return (access.role == "editor" and access.doc.editors_can_share
            and access.principal.user is not None)


async def sharing_access(request: Request, doc_id: str, principal: PrincipalDep) -> Access:
    access = await document_access(request, doc_id, principal, "editor")
    if not may_share(access):
        raise HTTPException(status.HTTP_403_FORBIDDEN,
                            "Only the owner can share this document" if not
                            access.doc.editors_can_share else
                            "Sign in to share this document")
    return access


CanShare = Annotated[Access, Depends(sharing_access)]
