"""Hostile WebSocket upgrade requests against a real `quire serve`.

Quire hands the upgrade request uvicorn's HTTP parser read to `websockets` as it is
(server/websocket_protocol.py: `parsed_request`), and lets `websockets` parse the bytes itself
only where it might refuse them. Each request below goes to a real document's address, with a
valid editor token:

| the upgrade request                                          | answered                       |
|--------------------------------------------------------------|--------------------------------|
| 129 headers (one more than websockets takes)                 | 431                            |
| a header line of 9,000 bytes                                 | 431                            |
| a request line of 9,000 bytes (a padded query)               | 414                            |
| a body announced; chunked                                    | 400                            |
| POST                                                         | 405                            |
| a control character in a header value; non-ASCII in the path | 400 (uvicorn's HTTP parser)    |
| no key; two keys; a key of the wrong length; version 8       | 400                            |
| 128 headers of 8,000 bytes each (~1 MB, within every limit)  | accepted like any other        |
| the ordinary request, after all of these                     | 101, and the socket syncs      |

Throughout, /healthz answers within 1 s, the process stays up, and the document as the owner
reads it is unchanged.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.handshakes import KEY, ORDINARY, answer, raw

pytestmark = pytest.mark.timeout(90)


def _without(name: bytes, replacement: bytes | None = None) -> list[tuple[bytes, bytes]]:
    return [(n, replacement if replacement is not None else v) if n == name else (n, v)
            for n, v in ORDINARY if not (n == name and replacement is None)]


async def test_hostile_upgrade_requests_are_refused_and_change_nothing(quire):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    port = int(quire.http.rsplit(":", 1)[1])
    target = quire.ws_url(doc, "editor").split(f":{port}", 1)[1].encode()
    line = b"GET " + target + b" HTTP/1.1"
    refused = {
        "129 headers": (raw(ORDINARY + [(b"X-%d" % n, b"v") for n in range(124)], line=line),
                        b"431"),
        "a 9,000-byte header line": (raw([*ORDINARY, (b"X-Long", b"v" * 9000)], line=line),
                                     b"431"),
        "a 9,000-byte request line": (raw(ORDINARY, line=b"GET " + target + b"&pad=" + b"p" * 9000
                                          + b" HTTP/1.1"), b"414"),
        "a body": (raw([*ORDINARY, (b"Content-Length", b"5")], line=line) + b"hello", b"400"),
        "chunked": (raw([*ORDINARY, (b"Transfer-Encoding", b"chunked")], line=line), b"400"),
        "POST": (raw(ORDINARY, line=b"POST " + target + b" HTTP/1.1"), b"405"),
        "a control character": (raw([*ORDINARY, (b"X-Ctl", b"a\x01b")], line=line), b"400"),
        "non-ASCII in the path": (raw(ORDINARY, line=b"GET /ws/d\xc3\xa9 HTTP/1.1"), b"400"),
        "no key": (raw(_without(b"Sec-WebSocket-Key"), line=line), b"400"),
        "two keys": (raw([*ORDINARY, (b"Sec-WebSocket-Key", KEY)], line=line), b"400"),
        "a short key": (raw(_without(b"Sec-WebSocket-Key", b"c2hvcnQ="), line=line), b"400"),
        "version 8": (raw(_without(b"Sec-WebSocket-Version", b"8"), line=line), b"400"),
    }
    async with quire.probe():
        for case, (request, status) in refused.items():
            got = await asyncio.to_thread(answer, port, request)
            assert got.split(b"\r\n", 1)[0].split(b" ")[1] == status, (case, got[:80])
        big = raw(ORDINARY + [(b"X-Big-%d" % n, b"b" * 8000) for n in range(123)], line=line)
        got = await asyncio.to_thread(answer, port, big, quiet=0.5)
        assert got.startswith(b"HTTP/1.1 101 "), got[:80]
        ordinary = await asyncio.to_thread(answer, port, raw(ORDINARY, line=line), quiet=0.5)
        assert ordinary.startswith(b"HTTP/1.1 101 "), ordinary[:80]
        editor = await quire.joined(doc, "editor")  # a real client still syncs
        await editor.close()
    assert await quire.owner_view(doc) == before
