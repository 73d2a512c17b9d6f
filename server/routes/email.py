"""Email settings as plain forms: the account page's "Email notifications" form, and the
unsubscribe link every notification email carries (signed for its account, so it works without
signing in; RFC 8058 one-click: a mail client POSTs to it). Opening the link shows a button:
link checkers that fetch every URL in a mail unsubscribe nobody."""

from __future__ import annotations

import asyncio
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from server.mailer import valid_unsubscribe
from server.routes.auth import account_form, account_page_response
from server.security import valid_email
from server.state import app_state
from server.templating import page_headers, templates
from storage import notifications
from storage.accounts import get_user

router = APIRouter(include_in_schema=False)
FormText = Annotated[str, Form(max_length=300)]


@router.post("/account/notifications")
async def email_settings_form(request: Request, email: FormText = "",
                              email_notifications: FormText = "all",
                              csrf_token_: Annotated[str, Form(alias="csrf_token")] = ""):
    principal = await account_form(request, csrf_token_)
    if isinstance(principal, Response) or principal.user is None:
        return principal
    address = email.strip() or None
    if address and not valid_email(address):
        return account_page_response(request, principal.user, code=422,
                                     error="That does not look like an email address.")
    if email_notifications not in notifications.EMAIL_KINDS:
        return account_page_response(request, principal.user, code=422,
                                     error="Choose which emails you want.")
    user = await asyncio.to_thread(notifications.set_email, app_state(request).engine,
                                   user_id=principal.user.id, email=address,
                                   choice=email_notifications)
    return account_page_response(request, user or principal.user,
                                 done="Your email settings were saved.")


def _page(request: Request, title: str, text: str, *, action: str | None = None,
          code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "message.html",
        {"title": title, "text": text, "action": action, "button": "Unsubscribe"},
        status_code=code, headers=page_headers())


def _checked(request: Request, u: str, s: str) -> bool:
    return len(u) <= 64 and len(s) <= 128 and valid_unsubscribe(app_state(request).secret_key, u, s)


@router.get("/unsubscribe")
async def unsubscribe_page(request: Request, u: str = Query(default="", max_length=64),
                           s: str = Query(default="", max_length=128)):
    if not _checked(request, u, s):
        return _page(request, "Link not valid", "This unsubscribe link is not valid. Change "
                     "your email settings on your account page.", code=400)
    return _page(request, "Stop Quire emails?", "You will get no more notification emails. "
                 "Your inbox in Quire keeps working.", action=f"/unsubscribe?{urlencode({'u': u, 's': s})}")


@router.post("/unsubscribe")
async def unsubscribe(request: Request, u: str = Query(default="", max_length=64),
                      s: str = Query(default="", max_length=128)):
    if not _checked(request, u, s):
        return _page(request, "Link not valid", "This unsubscribe link is not valid.", code=400)
    engine = app_state(request).engine
    if await asyncio.to_thread(get_user, engine, user_id=u) is None:
        return _page(request, "Link not valid", "This account no longer exists.", code=404)
    await asyncio.to_thread(notifications.set_choice, engine, user_id=u, choice="none")
    return _page(request, "Unsubscribed", "You will get no more notification emails from Quire. You can "
                 "turn them back on from your account page.")
