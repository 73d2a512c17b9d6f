"""uvicorn's websockets-sansio protocol, tuned for long-lived document sockets.

- It drops the handshake once done. uvicorn holds the upgrade request and response (header
  objects from `websockets`) and the scope's header list on the protocol for as long as the
  socket is open: about 4 KiB per connection that nothing reads once the accept is sent (Quire
  reads what it needs before it accepts). A server holds thousands of sockets for hours.
- It offers a synchronous send, as the ASGI scope extension `SEND_NOWAIT`: a broadcast to fifty
  clients writes fifty frames in one go instead of scheduling fifty tasks, and encodes the
  frame once for all of them. It writes only when that cannot block (the transport is not
  paused); otherwise the caller uses the ASGI `send`.
- It can abort a socket (the ASGI extension `ABORT`): a client that stopped reading cannot be
  sent a close frame, so the graceful close would wait on it forever.
- It can hand each binary message to the app as it is read (`ON_MESSAGE`), instead of queueing
  it for the app's `receive()`: a keystroke is then applied, stored and sent on to everyone
  within the callback that read it, with no task switch and no pause/resume of reading per
  message (uvicorn pauses reading after each queued message); the app is told when the
  messages that arrived together are done, so a burst is stored and sent on as one. Messages still go through the
  queue while it holds any, so order is kept; if the callback raises, the message's error is
  queued in its place and delivery goes back to the queue, so the app's `receive()` raises it
  where it would have handled the message (`DELIVERY_ERROR`).
- It writes the acceptance (101) together with the first frames the app sends before it next
  waits for input (a document's first sync message), in one write: one system call and one
  packet less for every socket opened, on both ends. What is held goes out before anything
  else is written, and at the latest on the loop's next turn.
- It is handed the upgrade request as uvicorn's HTTP parser read it (`handshake`), instead of
  bytes that uvicorn rebuilds from it for `websockets` to parse again line by line: that second
  parse was a tenth of the server's work for each document opened. What `websockets` would
  refuse, or might read differently (a request it limits: too many headers, a line too long;
  a header name or value it rejects; a body; another method), still goes through its own
  parser, which refuses it as before (`parsed_request`).
- It tells how much is still waiting in the socket's write buffer (`WRITE_BUFFER_SIZE`): a room
  that answered a newcomer with a big stored document builds its own copy (which holds the GIL,
  so the loop cannot write meanwhile) only once that answer is out of the process.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from uvicorn.logging import TRACE_LOG_LEVEL
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.exceptions import InvalidState
from websockets.http11 import MAX_LINE_LENGTH, MAX_NUM_HEADERS, Request, _token_re, _value_re
from websockets.protocol import Protocol, State

if TYPE_CHECKING:
    from uvicorn._types import ASGIReceiveEvent

SEND_NOWAIT = "quire.websocket.send_nowait"
ABORT = "quire.websocket.abort"
WRITE_BUFFER_SIZE = "quire.websocket.write_buffer_size"
ON_MESSAGE = "quire.websocket.on_message"
# the key, in a queued "websocket.receive" event, of the error a delivered message raised
DELIVERY_ERROR = "quire.error"
# Frames up to this size are encoded once for all recipients of a broadcast.
SHARED_FRAME_BYTES = 64 * 1024

_last_frame: tuple[bytes, bytes] | None = None


def shared_frame(data: bytes) -> bytes:
    """`data` as one unmasked, unfragmented binary frame (RFC 6455: what a server sends when no
    extension is in use). A broadcast passes the same bytes object to every recipient, so the
    last frame is kept and reused."""
    global _last_frame
    if _last_frame is not None and _last_frame[0] is data:
        return _last_frame[1]
    size = len(data)
    if size < 126:
        header = bytes((0x82, size))
    elif size < 65536:
        header = struct.pack("!BBH", 0x82, 126, size)
    else:
        header = struct.pack("!BBQ", 0x82, 127, size)
    frame = header + data
    _last_frame = (data, frame)
    return frame


# websockets' own lines for every socket ("connection open", "connection closed"): uvicorn
# sends them to its error log at INFO, two lines per document opened that say nothing the
# access line ('"WebSocket /ws/..." [accepted]') does not, and that cost more than the rest of
# the handshake's logging. They go to websockets' own logger, shown from WARNING up (or at
# QUIRE_LOG_LEVEL=debug: server/logs.py).
PROTOCOL_LOG = logging.getLogger("websockets.server")


def parsed_request(method: str, url: bytes, headers: Iterable[tuple[bytes, bytes]]) -> Request | None:
    """The request `websockets` reads from the bytes uvicorn rebuilds for it (`GET <url>
    HTTP/1.1`, then each header as `name: value`), checked as its `Request.parse` checks them;
    None for anything it might refuse or read otherwise, which then goes through that parser."""
    # the request line: "GET " + url + " HTTP/1.1\r\n", under websockets' line limit
    headers = list(headers)
    if method != "GET" or len(headers) > MAX_NUM_HEADERS or len(url) + 15 > MAX_LINE_LENGTH:
        return None
    if b" " in url or not url.isascii():
        return None
    found = Headers()
    for name, value in headers:
        if len(name) + len(value) + 4 > MAX_LINE_LENGTH or not _token_re.fullmatch(name):
            return None
        value = value.strip(b" \t")
        if not _value_re.fullmatch(value):
            return None
        found.set_insecure(name.decode("ascii"), value.decode("iso-8859-1"))
    if "Transfer-Encoding" in found or not set(found.get_all("Content-Length")) <= {"0"}:
        return None
    return Request(url.decode("ascii"), found)


class _Holding:
    """A transport whose writes are kept in `held` (everything else is the transport's)."""

    def __init__(self, transport: Any, held: list[bytes]) -> None:
        self._transport = transport
        self._held = held

    def write(self, data: bytes) -> None:
        self._held.append(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    _on_message: Callable[[bytes], None] | None = None
    _on_read: Callable[[], None] | None = None
    _delivered = False
    _held: list[bytes] | None = None  # written since the acceptance, not yet to the socket

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.conn.logger = PROTOCOL_LOG

    def handle_connect(self, event) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None:
            scope["extensions"][SEND_NOWAIT] = self.send_nowait
            scope["extensions"][ABORT] = self.abort
            scope["extensions"][WRITE_BUFFER_SIZE] = self.write_buffer_size
            scope["extensions"][ON_MESSAGE] = self.on_message

    def handshake(self, request: Request) -> None:
        """What `data_received` does with the bytes of `request` (uvicorn's rebuilt upgrade
        request), from the request itself: the connection's parser goes on to the frames that
        follow, as `ServerProtocol.parse` does once it read a request, and the request is
        handled as the event that parser would have made of it."""
        self.conn.parser = Protocol.parse(self.conn)
        next(self.conn.parser)  # start the coroutine, as Protocol.__init__ does
        self.handle_connect(request)

    def on_message(self, callback: Callable[[bytes], None] | None,
                   read: Callable[[], None] | None = None) -> None:
        """From now on, call `callback` with each binary message as it is read, and `read()`
        once the messages that arrived together were (None: queue them for `receive()` again)."""
        self._on_message = callback
        self._on_read = read

    def _write_held(self) -> None:
        held, self._held = self._held, None
        if held and not self.disconnected and not self.transport.is_closing():
            self.transport.write(b"".join(held))

    def connection_lost(self, exc: Exception | None) -> None:
        self._held = None
        super().connection_lost(exc)

    def shutdown(self) -> None:
        self._write_held()
        super().shutdown()

    async def receive(self):
        self._write_held()  # the app waits for input: what it sent so far goes out
        return await super().receive()

    def data_received(self, data: bytes) -> None:
        self._write_held()  # before anything uvicorn answers directly (pong, close)
        try:
            super().data_received(data)
        finally:
            if self._delivered:
                self._delivered = False
                if self._on_read is not None:
                    self._on_read()

    def send_receive_event_to_app(self) -> None:
        callback = self._on_message
        if (callback is None or self.curr_msg_data_type != "bytes" or self.close_sent
                or not self.queue.empty()):
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        self._delivered = True
        try:
            callback(data)
        except Exception as exc:
            self._on_message = None
            # a receive event with one key more than ASGI's, read by our own receive()
            self.queue.put_nowait(cast("ASGIReceiveEvent", {"type": "websocket.receive",
                                                          "bytes": data, DELIVERY_ERROR: exc}))

    def send_nowait(self, data: bytes) -> bool:
        """Write one binary frame now; False (nothing written) if that could block or the
        connection is not open."""
        if (not self.handshake_complete or self.close_sent or self.disconnected
                or self.initial_response is not None or not self.writable.is_set()
                or self.conn.state is not State.OPEN):
            return False
        if self.conn.extensions or len(data) > SHARED_FRAME_BYTES:
            try:
                self.conn.send_binary(data)
            except InvalidState:
                return False
            frame = b"".join(self.conn.data_to_send())
        else:
            frame = shared_frame(data)
        if self._held is not None:
            self._held.append(frame)
        else:
            self.transport.write(frame)
        return True

    def write_buffer_size(self) -> int:
        """Bytes written to the socket that the operating system has not taken yet."""
        if self.disconnected:
            return 0
        held = sum(len(frame) for frame in self._held) if self._held else 0
        return held + self.transport.get_write_buffer_size()

    def abort(self) -> None:
        """Close the socket now, dropping whatever it still had to send (a client that stopped
        reading would never take a closing handshake)."""
        self._held = None
        if not self.disconnected:
            self.transport.abort()

    async def send(self, message) -> None:
        if message["type"] == "websocket.accept" and not self.handshake_complete:
            await self._accept_holding(message)
            self._drop_handshake()
            return
        self._write_held()
        await super().send(message)

    def _drop_handshake(self) -> None:
        if self.handshake_complete:
            # freed once the handshake is done (uvicorn declares them never None)
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
            self.scope["headers"] = []

    async def _accept_holding(self, message) -> None:
        """uvicorn's acceptance, its bytes held (see `_write_held`) rather than written."""
        held: list[bytes] = []
        transport = self.transport
        self.transport = cast("Any", _Holding(transport, held))
        try:
            await super().send(message)
        finally:
            self.transport = transport
        if held:
            self._held = held
            self.loop.call_soon(self._write_held)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, which lets go of itself when a WebSocket takes its
    connection over.

    Its parser holds its callbacks (bound methods) and it holds its parser: a reference cycle,
    which uvicorn breaks when an HTTP connection is lost; but a connection upgraded to a
    WebSocket is never lost to it, so every socket opened left some twenty objects (protocol,
    parser, flow control, their callbacks) for the garbage collector to find and free, rather
    than being freed at once. (Collecting the youngest objects cost 70-100 ms while a thousand
    documents opened, a tenth of the server's work for them; those collections are driven by
    the objects the open documents keep, which this does not change.)
    """

    def handle_websocket_upgrade(self) -> None:
        request = parsed_request(self.scope["method"], self.url, self.scope["headers"])
        if request is None or self.ws_protocol_class is not WebSocketProtocol:
            super().handle_websocket_upgrade()  # websockets parses uvicorn's rebuilt bytes
        else:  # uvicorn's own steps, the request handed over as it is
            if self.logger.level <= TRACE_LOG_LEVEL:
                prefix = "{}:{} - ".format(*self.client) if self.client else ""
                self.logger.log(TRACE_LOG_LEVEL, "%sUpgrading to WebSocket", prefix)
            self.connections.discard(self)
            protocol = WebSocketProtocol(config=self.config, server_state=self.server_state,
                                         app_state=self.app_state)
            protocol.connection_made(self.transport)
            self.transport.set_protocol(protocol)
            protocol.handshake(request)
        self.parser = None  # type: ignore[assignment]  # as uvicorn's connection_lost does
