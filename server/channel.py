"""A raw ASGI WebSocket -> crdt Channel: binary frames only, size-limited.

Raw ASGI rather than Starlette's WebSocket wrapper: every keystroke passes through here once
per recipient, and a connection is held for hours, so the wrapper's per-message work and
per-connection frames are worth saving.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from crdt.ports import ChannelClosed
from crdt.protocol import CloseCode, ProtocolError
from server.websocket_protocol import DELIVERY_ERROR


class AsgiWebSocketChannel:
    def __init__(self, receive, send, *, max_message_bytes: int,
                 send_nowait: Callable[[bytes], bool] | None = None,
                 abort: Callable[[], None] | None = None,
                 write_buffer_size: Callable[[], int] | None = None,
                 on_message: Callable[..., None] | None = None,
                 ) -> None:
        self._receive = receive
        self._send = send
        # the server's SEND_NOWAIT, ABORT, WRITE_BUFFER_SIZE and ON_MESSAGE extensions, where
        # it has them
        self._send_nowait = send_nowait
        self._abort = abort
        self._write_buffer_size = write_buffer_size
        self._on_message = on_message
        self.max_message_bytes = max_message_bytes
        self.closed = False

    async def accept(self) -> None:
        message = await self._receive()
        if message["type"] != "websocket.connect":
            raise ChannelClosed()
        await self._send({"type": "websocket.accept"})

    async def recv(self) -> bytes:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.closed = True
            raise ChannelClosed()
        error = message.get(DELIVERY_ERROR)
        if error is not None:  # raised by a delivered message (see `deliver_to`)
            raise error
        data = message.get("bytes")
        if data is None:
            raise ProtocolError("text frames are not part of the protocol",
                                CloseCode.UNSUPPORTED_DATA)
        self._check_size(data)
        return data

    def _check_size(self, data: bytes) -> None:
        if len(data) > self.max_message_bytes:
            raise ProtocolError(f"frame of {len(data)} bytes exceeds {self.max_message_bytes}",
                                CloseCode.TOO_BIG)

    def deliver_to(self, callback: Callable[[bytes], None] | None,
                   read: Callable[[], None] | None = None) -> bool:
        if self._on_message is None:
            return False
        if callback is None:
            self._on_message(None)
            return True
        check_size = self._check_size

        def deliver(data: bytes) -> None:
            check_size(data)
            callback(data)

        self._on_message(deliver, read)
        return True

    async def send(self, message: bytes) -> None:
        if self.closed:
            raise ChannelClosed()
        try:
            await self._send({"type": "websocket.send", "bytes": message})
        except Exception as exc:  # the ASGI server raises several kinds once the peer is gone
            self.closed = True
            raise ChannelClosed() from exc

    def send_nowait(self, message: bytes) -> bool:
        if self.closed or self._send_nowait is None:
            return False
        return self._send_nowait(message)

    async def drained(self, timeout: float = 1.0) -> None:
        if self._write_buffer_size is None:
            return
        deadline = asyncio.get_running_loop().time() + timeout
        while (self._write_buffer_size() and not self.closed
               and asyncio.get_running_loop().time() < deadline):
            await asyncio.sleep(0.001)

    def abort(self) -> bool:
        if self._abort is None:
            return False
        self.closed = True
        self._abort()
        return True

    async def close(self, code: int, reason: str) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            await self._send({"type": "websocket.close", "code": code,
                              "reason": reason.encode()[:120].decode(errors="ignore")})
        except Exception:  # already closed by the peer: nothing left to tell it
            pass
