"""HTML pages: the dashboard (``/``) and the editor (``/d/{doc_id}``).

The pages are thin shells: the browser code (frontend/src, bundled to frontend/static/dist)
reads the document id from ``<body data-doc-id>`` and talks to the REST API and the WebSocket.
No inline scripts or handlers, so the pages carry a strict Content-Security-Policy.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response

from server.access import Principal, PrincipalDep
from server.sessions import csrf_token, login_redirect
from server.state import app_state
from server.templating import CONTENT_SECURITY_POLICY, STATIC_DIR, page_headers, templates

router = APIRouter(tags=["pages"])

DocId = Annotated[str, PathParam(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_-]+$")]


def _session_context(request: Request, principal: Principal) -> dict:
    """What every page tells its script: the CSRF token for API calls and who is signed in."""
    user = principal.user
    return {
        "csrf_token": csrf_token(request),
        "auth_required": app_state(request).settings.auth_required,
        "user_name": user.display_name if user else "",
        "username": user.username if user else "",
    }


def viewer_person(principal: Principal, doc_id: str) -> dict[str, str | None] | None:
    """The viewer's own person object for comment data (crdt/COMMENTS.md), rendered into the
    editor page: a signed-in account's id, display name and username; for a share link of this
    document (its token in the address) "link:<share id>"; None otherwise (accounts off)."""
    if principal.user is not None:
        user = principal.user
        return {"id": user.id, "name": user.display_name, "username": user.username}
    if principal.link is not None and principal.link.doc_id == doc_id:
        return {"id": principal.account, "name": None, "username": None}
    return None


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def dashboard(request: Request, principal: PrincipalDep) -> Response:
    """The list of documents (of the signed-in account)."""
    if app_state(request).settings.auth_required and principal.user is None:
        return login_redirect(request)
    return templates.TemplateResponse(request, "dashboard.html",
                                      _session_context(request, principal), headers=page_headers())


@router.get("/d/{doc_id}", response_class=HTMLResponse, include_in_schema=False)
async def editor(request: Request, doc_id: DocId, principal: PrincipalDep) -> Response:
    """The editor for one document. Signed-in people and holders of a share link get the page;
    the REST API and the WebSocket then enforce their role (unknown ids and lost access are
    reported by the page itself).

    A share link's page moves its token from the address bar to sessionStorage at once (so it
    does not leak through screenshots or copied addresses), so a reload arrives without it: a
    visitor whose browser already has a session cookie (it had a page from us before) gets the
    shell, whose script sends them to sign in unless it holds a token for this document. A
    first-time visitor without a token goes straight to the sign-in page."""
    settings = app_state(request).settings
    if settings.auth_required and principal.anonymous and not request.session:
        return login_redirect(request)
    context = {"doc_id": doc_id, "me": viewer_person(principal, doc_id),
               **_session_context(request, principal)}
    return templates.TemplateResponse(request, "editor.html", context, headers=page_headers())


@router.get("/sw.js", include_in_schema=False)
async def service_worker() -> FileResponse:
    """The service worker, served from the root so that its scope covers every page."""
    return FileResponse(
        STATIC_DIR / "sw.js",
        media_type="text/javascript",
        headers={"Cache-Control": "no-cache", "Content-Security-Policy": CONTENT_SECURITY_POLICY},
    )
