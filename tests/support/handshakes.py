"""Raw WebSocket upgrade requests, written byte by byte, and what a server answers to them."""

from __future__ import annotations

import base64
import contextlib
import socket

KEY = base64.b64encode(b"0123456789abcdef")
ORDINARY = [(b"Host", b"127.0.0.1"), (b"Upgrade", b"websocket"), (b"Connection", b"Upgrade"),
            (b"Sec-WebSocket-Key", KEY), (b"Sec-WebSocket-Version", b"13")]
CLOSE_1000 = b"\x88\x02\x03\xe8"  # a server's close frame (1000): it then waits for the client's


def raw(headers, *, line=b"GET /ws/doc-1?token=t%20x&saved=1 HTTP/1.1") -> bytes:
    return line + b"\r\n" + b"".join(n + b": " + v + b"\r\n" for n, v in headers) + b"\r\n"


def answer(port: int, request: bytes, *, quiet: float = 1.0) -> bytes:
    """Everything the server sends back until it closes or sends a close frame (or goes quiet
    for `quiet` seconds), its Date and Server headers left out."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(request)
        sock.settimeout(quiet)
        received = b""
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while not received.endswith(CLOSE_1000) and (chunk := sock.recv(65536)):
                received += chunk
    return b"\r\n".join(line for line in received.split(b"\r\n")
                        if not line.lower().startswith((b"date:", b"server:")))
