"""WebSocket /ws/{doc_id}: the y-websocket protocol, one room per document.

Served as raw ASGI before the FastAPI app's own stack (see `server.app.QuireApp`): the
connection skips the HTTP middleware, so it reads the session cookie itself.

Before anything of the document is sent, in this order:
1. a connection slot of the client's address is taken (released when the socket ends), before
   the first await, so simultaneous handshakes cannot all pass the limit (1013 when full);
2. a page of another origin is refused (ORIGIN_REFUSED, 4406: see server/origins.py); without
   an `Origin` (not a browser) the session cookie is ignored and only tokens count;
3. who it is and their role: 4401 when nobody is signed in, and the same 4404 "document not
   found" for an id that does not exist and for a document this person may not open, so ids
   cannot be probed (4403 means access was removed while connected: server/liveaccess.py).

The socket is accepted only once the role is known (a refusal is an accepted socket closed with
its code at once): the acceptance then leaves in one write with the room's first frame
(server/websocket_protocol.py).
"""

from __future__ import annotations

import json
import logging
import re
from base64 import b64decode
from http.cookies import SimpleCookie
from urllib.parse import parse_qs

import itsdangerous

from crdt.ports import ChannelClosed
from crdt.protocol import CloseCode
from crdt.rooms import Preloaded, ShuttingDown
from server.access import bearer_token, resolve
from server.access_cache import AccessCache
from server.channel import AsgiWebSocketChannel
from server.state import app_state
from server.websocket_protocol import ABORT, ON_MESSAGE, SEND_NOWAIT, WRITE_BUFFER_SIZE
from storage.accounts import get_user
from storage.db import sample_ids
from storage.documents import get_document
from storage.opening import access_facts_for
from storage.updates import load_updates, read_many

log = logging.getLogger("quire.ws")
PATH = re.compile(r"^/ws/([A-Za-z0-9_-]{1,200})$")
SESSION_COOKIE = "quire_session"
NOT_FOUND_REASON = "document not found"  # unknown, or not yours: the same answer


def cookie_session_id(headers: dict[str, str], secret: str, max_age: int) -> str | None:
    """The session id in the signed session cookie (as SessionMiddleware wrote it), if any."""
    raw = headers.get("cookie")
    if not raw:
        return None
    try:
        morsel = SimpleCookie(raw).get(SESSION_COOKIE)
        if morsel is None:
            return None
        data = itsdangerous.TimestampSigner(secret).unsign(morsel.value, max_age=max_age)
        sid = json.loads(b64decode(data)).get("sid")
        return sid if isinstance(sid, str) else None
    except (itsdangerous.BadSignature, ValueError, TypeError):
        return None


def warm_up(engine) -> None:
    """Blocking (run in a thread, at start-up): run the queries of a connection once, so the
    first person to open a document after a restart does not pay for compiling them."""
    missing = "-warm-up-"
    some = sample_ids(engine)
    get_document(engine, doc_id=some.get("document", missing))
    with engine.connect() as conn:
        access_facts_for(conn, [(some.get("document", missing), some.get("user", missing))])
        read_many(conn, [some.get("document", missing)])
    get_user(engine, user_id=some.get("user", missing))
    resolve(engine, session_id=missing, token="qp_" + missing)
    resolve(engine, session_id=None, token="qs_" + missing)
    load_updates(engine, doc_id=some.get("document", missing))


def document_socket(scope) -> str | None:
    """The document id when `scope` is a WebSocket to /ws/{doc_id}, else None."""
    if scope["type"] != "websocket":
        return None
    match = PATH.match(scope["path"])
    return match.group(1) if match is not None else None


async def _accepted(channel: AsgiWebSocketChannel) -> bool:
    """Accept the socket; False if the client is already gone."""
    try:
        await channel.accept()
    except ChannelClosed:
        return False
    return True


async def serve_document_socket(app, scope, receive, send, doc_id: str) -> None:
    state = app_state(app)
    settings = state.settings
    client = scope.get("client")  # the real client, if a trusted proxy said so (server/proxies.py)
    address = client[0] if client else "?"
    counts = state.connections_by_address
    # reserve the slot before the first await: handshakes in flight count
    full = counts.get(address, 0) >= settings.max_connections_per_address
    if not full:
        counts[address] = counts.get(address, 0) + 1
    try:
        await _serve(app, scope, receive, send, doc_id, full=full)
    finally:
        if not full:
            counts[address] -= 1
            if counts[address] <= 0:
                del counts[address]


async def _serve(app, scope, receive, send, doc_id: str, *, full: bool) -> None:
    state = app_state(app)
    settings = state.settings
    # read before accepting: the server may drop the handshake's headers once it is done
    # (server/websocket_protocol.py); a connection lives for hours, keep only what it needs
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    origin = headers.get("origin")
    foreign = origin is not None and not state.origins.allows(origin, headers.get("host"))
    token = bearer_token(headers.get("authorization"), (query.get("token") or [None])[0])
    # only a browser holds the cookie, and a browser always says where its page came from
    session_id = (cookie_session_id(headers, state.secret_key, settings.session_max_age)
                  if origin is not None and not foreign else None)
    wants_persisted = (query.get("saved") or [""])[0] == "1"
    del headers, query
    extensions = scope.get("extensions") or {}
    channel = AsgiWebSocketChannel(
        receive, send, max_message_bytes=settings.max_message_bytes,
        send_nowait=extensions.get(SEND_NOWAIT), abort=extensions.get(ABORT),
        write_buffer_size=extensions.get(WRITE_BUFFER_SIZE), on_message=extensions.get(ON_MESSAGE))
    if full or foreign:
        if not await _accepted(channel):
            return
        if full:
            await channel.close(CloseCode.TRY_AGAIN_LATER, "too many connections from your address")
        else:
            log.info("doc %s: refused a WebSocket from the page of another origin (%.100s)",
                     doc_id, origin)
            await channel.close(CloseCode.ORIGIN_REFUSED, "this page may not open Quire documents")
        return

    # who it is and their role before the socket is accepted: the acceptance then goes out
    # with the room's first frames, in one write (server/websocket_protocol.py)
    cache: AccessCache = state.access_cache
    decided = cache.decision(doc_id, session_id, token) if settings.auth_required else None
    role: str | None
    preloaded: Preloaded | None = None
    if decided is not None:  # the same person opened it a moment ago: no database, no thread
        principal, role = decided
    else:
        try:
            opened = await state.opener.open(
                doc_id, session_id=session_id, token=token,
                known=cache.principal(session_id, token) if settings.auth_required else None,
                ticket=state.rooms.preload_ticket(doc_id))
        except Exception as exc:
            log.error("doc %s: database unavailable on connect: %s", doc_id, exc)
            if await _accepted(channel):
                await channel.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
            return
        principal, role, preloaded = opened.principal, opened.role, opened.preloaded
        del opened  # this frame lives as long as the socket: keep no stored bytes in it
        if settings.auth_required:
            cache.remember(doc_id, session_id, token, principal, role)
    if not await _accepted(channel):
        return
    if role is None and principal.anonymous and settings.auth_required:
        await channel.close(CloseCode.UNAUTHORIZED, "sign in to open this document")
        return
    if role is None:
        await channel.close(CloseCode.NOT_FOUND, NOT_FOUND_REASON)
        return
    client = scope.get("client")
    label = f"{client[0]}:{client[1]}" if client else "?"
    joining = state.rooms.join(
        doc_id,
        channel,
        wants_persisted=wants_persisted,
        label=label,
        role=role,
        identity=principal,
        verified_name=principal.user.display_name if principal.user else None,
        username=principal.user.username if principal.user else None,
        account=principal.account if settings.auth_required else None,
        preloaded=preloaded,
    )
    preloaded = None  # the room holds the stored state now; the socket's frame need not
    try:
        await joining
    except ShuttingDown:
        await channel.close(CloseCode.GOING_AWAY, "server restarting")
    except Exception as exc:
        log.error("doc %s: connection failed: %r", doc_id, exc)
        await channel.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
