"""WebSocket endpoint /ws/{doc_id}: the y-websocket protocol, one room per document."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket

from crdt.protocol import CloseCode
from server.access import Principal, bearer_token, resolve, role_on
from server.channel import WebSocketChannel
from storage.documents import get_document

log = logging.getLogger("quire.ws")
router = APIRouter()


@router.websocket("/ws/{doc_id}")
async def document_socket(websocket: WebSocket, doc_id: str) -> None:
    state = websocket.app.state
    settings = state.settings
    await websocket.accept()
    address = websocket.client.host if websocket.client else "?"
    counts = state.connections_by_address
    if counts.get(address, 0) >= settings.max_connections_per_address:
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "too many connections from your address")
        return
    token = bearer_token(websocket.headers.get("authorization"),
                         websocket.query_params.get("token"))
    user_id = websocket.session.get("uid") if "session" in websocket.scope else None

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
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
        return
    if role is None and principal.anonymous:
        await websocket.close(CloseCode.UNAUTHORIZED, "sign in to open this document")
        return
    if not exists:
        await websocket.close(CloseCode.NOT_FOUND, "unknown document")
        return
    if role is None:
        await websocket.close(CloseCode.FORBIDDEN, "you do not have access to this document")
        return
    channel = WebSocketChannel(websocket, max_message_bytes=state.settings.max_message_bytes)
    client = websocket.client
    label = f"{client.host}:{client.port}" if client else "?"
    counts[address] = counts.get(address, 0) + 1
    try:
        await state.rooms.join(
            doc_id,
            channel,
            wants_persisted=websocket.query_params.get("saved") == "1",
            label=label,
            role=role,
            identity=principal,
            verified_name=principal.user.display_name if principal.user else None,
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
