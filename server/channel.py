"""Starlette WebSocket -> crdt Channel: binary frames only, size-limited."""

from __future__ import annotations

from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from crdt.ports import ChannelClosed
from crdt.protocol import CloseCode, ProtocolError


class WebSocketChannel:
    def __init__(self, websocket: WebSocket, *, max_message_bytes: int) -> None:
        self.websocket = websocket
        self.max_message_bytes = max_message_bytes

    async def recv(self) -> bytes:
        try:
            message = await self.websocket.receive()
        except (WebSocketDisconnect, RuntimeError) as exc:
            raise ChannelClosed() from exc
        if message["type"] == "websocket.disconnect":
            raise ChannelClosed()
        data = message.get("bytes")
        if data is None:
            raise ProtocolError("text frames are not part of the protocol",
                                CloseCode.UNSUPPORTED_DATA)
        if len(data) > self.max_message_bytes:
            raise ProtocolError(f"frame of {len(data)} bytes exceeds {self.max_message_bytes}",
                                CloseCode.TOO_BIG)
        return data

    async def send(self, message: bytes) -> None:
        try:
            await self.websocket.send_bytes(message)
        except Exception as exc:  # the ASGI server raises several kinds once the peer is gone
            raise ChannelClosed() from exc

    async def close(self, code: int, reason: str) -> None:
        if self.websocket.application_state == WebSocketState.DISCONNECTED:
            return
        try:
            await self.websocket.close(code=code, reason=reason[:120])
        except Exception:  # already closed by the peer: nothing left to tell it
            pass
