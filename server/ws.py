"""WebSocket endpoint /ws/{doc_id}: the y-websocket protocol, one room per document."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, WebSocket

from crdt.protocol import CloseCode
from server.channel import WebSocketChannel
from storage.documents import document_exists

log = logging.getLogger("quire.ws")
router = APIRouter()


@router.websocket("/ws/{doc_id}")
async def document_socket(websocket: WebSocket, doc_id: str) -> None:
    state = websocket.app.state
    await websocket.accept()
    try:
        exists = await asyncio.to_thread(document_exists, state.engine, doc_id=doc_id)
    except Exception as exc:
        log.error("doc %s: database unavailable on connect: %s", doc_id, exc)
        await websocket.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
        return
    if not exists:
        await websocket.close(CloseCode.NOT_FOUND, "unknown document")
        return
    channel = WebSocketChannel(websocket, max_message_bytes=state.settings.max_message_bytes)
    client = websocket.client
    label = f"{client.host}:{client.port}" if client else "?"
    try:
        await state.rooms.join(
            doc_id,
            channel,
            wants_persisted=websocket.query_params.get("saved") == "1",
            label=label,
        )
    except RuntimeError:  # shutting down
        await channel.close(CloseCode.GOING_AWAY, "server restarting")
    except Exception as exc:
        log.error("doc %s: connection failed: %r", doc_id, exc)
        await channel.close(CloseCode.TRY_AGAIN_LATER, "storage unavailable, retrying")
