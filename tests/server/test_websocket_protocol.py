"""The frames Quire's WebSocket protocol writes itself are the ones `websockets` would write."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import os
import socket

import pytest
import uvicorn
import websockets
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from websockets.frames import Frame, Opcode

from server.websocket_protocol import (
    ABORT,
    ON_MESSAGE,
    SEND_NOWAIT,
    WRITE_BUFFER_SIZE,
    HttpProtocol,
    WebSocketProtocol,
    shared_frame,
)
from tests.support import handshakes
from tests.support.handshakes import CLOSE_1000 as _CLOSE_1000
from tests.support.handshakes import KEY as _KEY
from tests.support.handshakes import ORDINARY as _ORDINARY
from tests.support.handshakes import raw as _raw


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
def test_shared_frame_is_a_standard_binary_frame(size):
    data = bytes(i % 251 for i in range(size))
    expected = Frame(Opcode.BINARY, data).serialize(mask=False, extensions=[])
    assert shared_frame(data) == expected
    assert shared_frame(data) == expected  # the kept copy, for the next recipient


def test_equal_payloads_in_different_objects_are_each_framed():
    first, second = b"a" * 10, b"b" * 10
    assert shared_frame(first)[2:] == first
    assert shared_frame(second)[2:] == second


# ---- the fence around uvicorn's private protocol: the fast paths must be taken, not skipped --


def _with_lifespan(app):
    """`app` for WebSockets, answering uvicorn's lifespan messages itself."""

    async def wrapped(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        await app(scope, receive, send)

    return wrapped


@contextlib.asynccontextmanager
async def _uvicorn(app, **config):
    """A real uvicorn server on a free port in this loop, serving `app`; yields the port."""
    server = uvicorn.Server(uvicorn.Config(_with_lifespan(app), host="127.0.0.1", port=0,
                                           lifespan="on", log_level="warning", **config))
    assert isinstance(getattr(server, "_captured_signals", None), list)  # server/cli.py edits it
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def test_the_fast_paths_are_offered_and_taken_on_this_uvicorn():
    """`WebSocketProtocol` overrides private parts of uvicorn's sansio protocol. If a uvicorn
    release renames them, Quire would quietly fall back to the slow ASGI paths (or break at
    shutdown): this fails instead. A real uvicorn server, a real client."""
    seen: dict[str, object] = {}
    got: asyncio.Queue[bytes] = asyncio.Queue()

    async def app(scope, receive, send):
        extensions = scope["extensions"]
        seen["extensions"] = {SEND_NOWAIT, ABORT, WRITE_BUFFER_SIZE, ON_MESSAGE} & set(extensions)
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        extensions[ON_MESSAGE](got.put_nowait, lambda: seen.setdefault("read", True))
        seen["buffer"] = extensions[WRITE_BUFFER_SIZE]()
        seen["nowait"] = extensions[SEND_NOWAIT](b"hello")
        message = await receive()  # only the close arrives here: data went to the callback
        seen["queued"] = message["type"]

    async with _uvicorn(app, ws=WebSocketProtocol) as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as client:
            assert await asyncio.wait_for(client.recv(), 5) == b"hello"
            await client.send(b"\x00\x01")
            assert await asyncio.wait_for(got.get(), 5) == b"\x00\x01"
        for _ in range(100):
            if "queued" in seen:
                break
            await asyncio.sleep(0.02)
    assert seen["extensions"] == {SEND_NOWAIT, ABORT, WRITE_BUFFER_SIZE, ON_MESSAGE}
    # the acceptance is held until the app waits for input: counted as not yet written
    assert seen["nowait"] is True and seen["buffer"] > 0 and seen["read"] is True
    assert seen["queued"] == "websocket.disconnect"


class _CountingWrites(WebSocketProtocol):
    writes: list[bytes] = []

    def connection_made(self, transport) -> None:
        write = transport.write

        def counted(data: bytes) -> None:
            _CountingWrites.writes.append(bytes(data))
            write(data)

        transport.write = counted
        super().connection_made(transport)


async def test_the_acceptance_goes_out_with_the_first_frames_in_one_write():
    """Opening a document: the 101 response and the room's first frame (its sync request) are
    one write to the socket, not two; a frame sent after the app waited for input is written
    on its own, after them; a close after the acceptance comes after what was held."""

    async def app(scope, receive, send):
        nowait = scope["extensions"][SEND_NOWAIT]
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        assert nowait(b"first") and nowait(b"second")
        if scope["path"] == "/close":
            await send({"type": "websocket.close", "code": 4404, "reason": "gone"})
            return
        message = await receive()  # waiting for input: the held bytes went out
        assert nowait(message["bytes"] + b"!")
        await receive()

    _CountingWrites.writes = []
    async with _uvicorn(app, ws=_CountingWrites, ws_per_message_deflate=False) as port:
        async with websockets.connect(f"ws://127.0.0.1:{port}/") as client:
            assert await asyncio.wait_for(client.recv(), 5) == b"first"
            assert await asyncio.wait_for(client.recv(), 5) == b"second"
            await client.send(b"echo")
            assert await asyncio.wait_for(client.recv(), 5) == b"echo!"
        opened = list(_CountingWrites.writes)
        _CountingWrites.writes = []
        async with websockets.connect(f"ws://127.0.0.1:{port}/close") as client:
            assert await asyncio.wait_for(client.recv(), 5) == b"first"
            assert await asyncio.wait_for(client.recv(), 5) == b"second"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(client.recv(), 5)
            assert closed.value.rcvd.code == 4404
        refused = list(_CountingWrites.writes)
    assert opened[0].startswith(b"HTTP/1.1 101 ") and opened[0].endswith(
        shared_frame(b"first") + shared_frame(b"second"))
    assert opened[1] == shared_frame(b"echo!")
    assert refused[0].startswith(b"HTTP/1.1 101 ") and refused[0].endswith(shared_frame(b"second"))
    assert refused[1][0] == 0x88  # the close frame, after what was held


async def test_an_upgraded_connection_leaves_nothing_for_the_garbage_collector():
    """uvicorn's HTTP protocol and its parser refer to each other; uvicorn breaks that cycle
    when an HTTP connection is lost, which never happens to one upgraded to a WebSocket. Quire's
    HttpProtocol breaks it at the upgrade: nothing of the HTTP side waits for the collector."""

    async def app(scope, receive, send):
        await receive()
        await send({"type": "websocket.accept"})
        await receive()  # until the client goes

    def handshake(port: int) -> bytes:
        key = base64.b64encode(os.urandom(16)).decode()
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                          f"Sec-WebSocket-Version: 13\r\n\r\n").encode())
            return sock.recv(4096)

    async with _uvicorn(app, http=HttpProtocol, ws=WebSocketProtocol) as port:
        gc.collect()
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            answers = [await asyncio.to_thread(handshake, port) for _ in range(5)]
            await asyncio.sleep(0.2)
            gc.collect()
            left = [o for o in gc.garbage if isinstance(o, HttpToolsProtocol)]
        finally:
            gc.set_debug(0)
            gc.garbage.clear()
    assert all(a.startswith(b"HTTP/1.1 101 ") for a in answers)
    assert left == []


# ---- the upgrade request handed over as parsed, not parsed again ---------------------------

# what a client may send, ordinary and hostile; each answered alike by both protocols
HANDSHAKES = {
    "ordinary": _raw(_ORDINARY),
    "with a cookie, an origin and header names in any case": _raw(
        [*_ORDINARY, (b"cookie", b"quire_session=abc; theme=dark"), (b"ORIGIN", b"http://x.test"),
         (b"X-Odd!#$%&'*+.^_`|~", b"ok")]),
    "an ISO-8859-1 header value": _raw([*_ORDINARY, (b"X-Name", b"Zo\xe9")]),
    "a value with a tab and trailing blanks": _raw([*_ORDINARY, (b"X-Tab", b"a\tb  \t")]),
    "HTTP/1.0": _raw(_ORDINARY, line=b"GET /ws/doc-1 HTTP/1.0"),
    "as many headers as websockets takes": _raw(
        _ORDINARY + [(b"X-%d" % n, b"v") for n in range(128 - len(_ORDINARY))]),
    "one header too many": _raw(
        _ORDINARY + [(b"X-%d" % n, b"v") for n in range(129 - len(_ORDINARY))]),
    "a header line of 9,000 bytes": _raw([*_ORDINARY, (b"X-Long", b"v" * 9000)]),
    "a request line of 9,000 bytes": _raw(_ORDINARY, line=b"GET /ws/" + b"a" * 9000 + b" HTTP/1.1"),
    "a control character in a value": _raw([*_ORDINARY, (b"X-Ctl", b"a\x7fb")]),
    "a body announced": _raw([*_ORDINARY, (b"Content-Length", b"5")]),
    "an empty body announced": _raw([*_ORDINARY, (b"Content-Length", b"0")]),
    "chunked": _raw([*_ORDINARY, (b"Transfer-Encoding", b"chunked")]),
    "POST": _raw(_ORDINARY, line=b"POST /ws/doc-1 HTTP/1.1"),
    "no key": _raw([h for h in _ORDINARY if h[0] != b"Sec-WebSocket-Key"]),
    "two keys": _raw([*_ORDINARY, (b"Sec-WebSocket-Key", _KEY)]),
    "a key that is not 16 bytes": _raw(
        [h if h[0] != b"Sec-WebSocket-Key" else (h[0], b"c2hvcnQ=") for h in _ORDINARY]),
    "version 8": _raw([h if h[0] != b"Sec-WebSocket-Version" else (h[0], b"8")
                       for h in _ORDINARY]),
    "non-ASCII bytes in the path": _raw(_ORDINARY, line=b"GET /ws/d\xc3\xa9 HTTP/1.1"),
}


async def test_an_upgrade_is_answered_as_websockets_would_without_parsing_it_again(monkeypatch):
    """uvicorn rebuilds the upgrade request's bytes from what its HTTP parser read, and
    `websockets` parses them again; Quire's protocols hand the parsed request over instead
    (server/websocket_protocol.py). Ordinary and hostile handshakes alike, the server's answer
    (status, headers, the app's frames) and what the app is told (path, query, headers) are the
    ones uvicorn's own protocols give; what websockets might refuse (limits, a body, another
    method) is still parsed by it, and an ordinary handshake never is."""
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
    from websockets.http11 import Request

    parse = Request.parse.__func__
    parsed: list[str] = []

    def counting_parse(cls, *args, **kwargs):  # each request websockets reads from bytes
        try:
            request = yield from parse(cls, *args, **kwargs)
        except Exception:
            parsed.append("refused")
            raise
        parsed.append(request.path)
        return request

    monkeypatch.setattr(Request, "parse", classmethod(counting_parse))
    told: list[tuple] = []

    async def app(scope, receive, send):
        told.append((scope["path"], scope["raw_path"], scope["query_string"],
                     sorted(scope["headers"]), scope["subprotocols"]))
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "bytes": b"hello"})
        await send({"type": "websocket.close", "code": 1000})

    answers: dict[str, dict[str, tuple]] = {}
    for name, protocols in (("uvicorn", {"http": HttpToolsProtocol, "ws": WebSocketsSansIOProtocol}),
                            ("quire", {"http": HttpProtocol, "ws": WebSocketProtocol})):
        answers[name] = {}
        async with _uvicorn(app, **protocols) as port:
            for case, request in HANDSHAKES.items():
                told.clear()
                parsed.clear()
                answer = await asyncio.to_thread(handshakes.answer, port, request)
                answers[name][case] = (answer, list(told), len(parsed))
    for case in HANDSHAKES:
        ours, theirs = answers["quire"][case], answers["uvicorn"][case]
        assert ours[:2] == theirs[:2], case
    status = {case: answer.split(b"\r\n", 1)[0] for case, (answer, _, _) in answers["quire"].items()}
    assert status["ordinary"] == b"HTTP/1.1 101 Switching Protocols"
    assert answers["quire"]["ordinary"][0].endswith(shared_frame(b"hello") + _CLOSE_1000)
    assert status["one header too many"].startswith(b"HTTP/1.1 431")
    assert status["a header line of 9,000 bytes"].startswith(b"HTTP/1.1 431")
    assert status["a body announced"].startswith(b"HTTP/1.1 400")
    assert status["version 8"].startswith(b"HTTP/1.1 400")
    assert status["POST"].startswith(b"HTTP/1.1 405")
    # httptools refuses these before any upgrade, for both
    assert status["a control character in a value"].startswith(b"HTTP/1.1 400")
    assert status["non-ASCII bytes in the path"].startswith(b"HTTP/1.1 400")
    # uvicorn's protocols parse every upgrade twice; Quire's only what websockets might refuse
    # or read otherwise, and no ordinary handshake
    again = {case for case, (_, _, count) in answers["quire"].items() if count}
    assert again == {"one header too many", "a header line of 9,000 bytes",
                     "a request line of 9,000 bytes", "a body announced", "chunked", "POST"}
    assert {case for case, (_, _, count) in answers["uvicorn"].items() if count} == set(
        HANDSHAKES) - {"a control character in a value", "non-ASCII bytes in the path"}
