"""WebSocket /ws/{doc_id}: the y-websocket protocol, one room per document.

Served as raw ASGI before the FastAPI app's own stack (see `server.app.QuireApp`): the
connection skips the HTTP middleware, so it reads the session cookie itself.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from base64 import b64decode
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import itsdangerous

from crdt.ports import ChannelClosed
from crdt.protocol import CloseCode
from server.access import Principal, bearer_token, resolve, role_on
from server.channel import AsgiWebSocketChannel
from server.websocket_protocol import ABORT, ON_MESSAGE, SEND_NOWAIT, WRITE_BUFFER_SIZE
from storage.accounts import get_user
from storage.db import sample_ids
from storage.documents import get_document
from storage.updates import load_updates

log = logging.getLogger("quire.ws")
PATH = re.compile(r"^/ws/([A-Za-z0-9_-]{1,200})$")
SESSION_COOKIE = "quire_session"


def session_user_id(headers: dict[str, str], secret: str, max_age: int) -> str | None:
    """The account id in the signed session cookie (as SessionMiddleware wrote it), if any."""
    raw = headers.get("cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(SESSION_COOKIE)
        if morsel is None:
            return None
        data = itsdangerous.TimestampSigner(secret).unsign(morsel.value, max_age=max_age)
        uid = json.loads(b64decode(data)).get("uid")
        return uid if isinstance(uid, str) else None
    except (itsdangerous.BadSignature, ValueError, TypeError):
        return None


def warm_up(engine) -> None:
    """Blocking (run in a thread, at start-up): run the queries of a connection once, so the
    first person to open a document after a restart does not pay for compiling them."""
    missing = "-warm-up-"
    some = sample_ids(engine)
    get_document(engine, doc_id=some.get("document", missing))
    get_user(engine, user_id=some.get("user", missing))
    resolve(engine, user_id=missing, token="qp_" + missing)
    resolve(engine, user_id=None, token="qs_" + missing)
    load_updates(engine, doc_id=some.get("document", missing))


def document_socket(scope) -> str | None:
    """The document id when `scope` is a WebSocket to /ws/{doc_id}, else None."""
    if scope["type"] != "websocket":
        return None
    match = PATH.match(scope["path"])
    return match.group(1) if match is not None else None


async def serve_document_socket(app, scope, receive, send, doc_id: str) -> None:
    state = app.state
    settings = state.settings
    # read before accepting: the server may drop the handshake's headers once it is done
    # (server/websocket_protocol.py); a connection lives for hours, keep only what it needs
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    token = bearer_token(headers.get("authorization"), (query.get("token") or [None])[0])
    user_id = session_user_id(headers, state.secret_key, settings.session_max_age)
    wants_persisted = (query.get("saved") or [""])[0] == "1"
    del headers, query
    extensions = scope.get("extensions") or {}
    channel = AsgiWebSocketChannel(
        receive, send, max_message_bytes=settings.max_message_bytes,
        send_nowait=extensions.get(SEND_NOWAIT), abort=extensions.get(ABORT),
        write_buffer_size=extensions.get(WRITE_BUFFER_SIZE), on_message=extensions.get(ON_MESSAGE))
    try:
        await channel.accept()
    except ChannelClosed:
        return
    client = scope.get("client")
    address = client[0] if client else "?"
    counts = state.connections_by_address
    if counts.get(address, 0) >= settings.max_connections_per_address:
        await channel.close(CloseCode.TRY_AGAIN_LATER, "too many connections from your address")
        return

    def authorise() -> tuple[bool, Principal, str | None]:
        doc = get_document(state.engine, doc_id=doc_id)
        if not settings.auth_required:
            return doc is not None, Principal(), "owner"
        principal = resolve(state.engine, user_id=user_id, token=token)
        return doc is not None, principal, role_on(state.engine, principal, doc) if doc else None

    try:
        exists, principal, role = await asyncio.to_thread(authorise)
    except Exception as exc:
        log.error("doc %s: database unavailable on connect: %s", doc_id, exc)
        await channel.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
        return
    if role is None and principal.anonymous:
        await channel.close(CloseCode.UNAUTHORIZED, "sign in to open this document")
        return
    if not exists:
        await channel.close(CloseCode.NOT_FOUND, "unknown document")
        return
    if role is None:
        await channel.close(CloseCode.FORBIDDEN, "you do not have access to this document")
        return
    label = f"{client[0]}:{client[1]}" if client else "?"
    counts[address] = counts.get(address, 0) + 1
    try:
        await state.rooms.join(
            doc_id,
            channel,
            wants_persisted=wants_persisted,
            label=label,
            role=role,
            identity=principal,
            verified_name=principal.user.display_name if principal.user else None,
            account=principal.account if settings.auth_required else None,
        )
    except RuntimeError:  # shutting down
        await channel.close(CloseCode.GOING_AWAY, "server restarting")
    except Exception as exc:
        log.error("doc %s: connection failed: %r", doc_id, exc)
        await channel.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
    finally:
        counts[address] -= 1
        if counts[address] <= 0:
            del counts[address]
