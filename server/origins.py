"""Which web pages may open a document WebSocket: the `Origin` check.

A browser sends the session cookie with every WebSocket to our host, whichever page opened it,
and always says which page that was in `Origin`. So (cross-site WebSocket hijacking):
- `Origin` present: it must be Quire's own — `QUIRE_PUBLIC_URL`'s origin, or one listed in
  `QUIRE_ALLOWED_ORIGINS`; when `QUIRE_PUBLIC_URL` is unset, any origin whose host and port
  are those the request was sent to (its `Host` header: `make run` at http://127.0.0.1:8000
  works as it is). Anything else — a sibling host, another port on localhost, `null` — is
  refused with ORIGIN_REFUSED before a byte of the document is sent, whatever the credentials.
- `Origin` absent: not a browser (scripts, bots, the Node and pycrdt clients). It may
  authenticate with a token; the session cookie is ignored, since only a browser holds one.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from crdt.protocol import CloseCode

DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# the WebSocket close code for a page of another origin (terminal for y-websocket clients)
ORIGIN_REFUSED = CloseCode.ORIGIN_REFUSED

Origin = tuple[str, str, int]


def parse_origin(value: str) -> Origin | None:
    """"https://Quire.example.com" -> ("https", "quire.example.com", 443); None if unusable."""
    try:
        parts = urlsplit(value.strip())
        scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
    except ValueError:
        return None
    if scheme not in ("http", "https") or not host:
        return None
    return scheme, host, port or DEFAULT_PORTS[scheme]


class OriginPolicy:
    def __init__(self, public_url: str | None = None, allowed: str = "") -> None:
        self.public = parse_origin(public_url) if public_url else None
        if public_url and self.public is None:
            raise ValueError(f"QUIRE_PUBLIC_URL is not an http(s) URL: {public_url!r}")
        self.allowed: set[Origin] = set()
        for item in allowed.split(","):
            if item.strip():
                parsed = parse_origin(item)
                if parsed is None:
                    raise ValueError(f"QUIRE_ALLOWED_ORIGINS: not an origin: {item.strip()!r}")
                self.allowed.add(parsed)
        if self.public is not None:
            self.allowed.add(self.public)

    def allows(self, origin: str, host_header: str | None) -> bool:
        """May a page of `origin` open a WebSocket sent to `host_header`?"""
        parsed = parse_origin(origin)
        if parsed is None:
            return False
        if parsed in self.allowed:
            return True
        if self.public is not None or not host_header:
            return False
        # no public URL configured: the page must come from the host:port we were reached at
        try:
            target = urlsplit("//" + host_header.strip())
            host, port = (target.hostname or "").lower(), target.port
        except ValueError:
            return False
        scheme, origin_host, origin_port = parsed
        return origin_host == host and origin_port == (port or DEFAULT_PORTS[scheme])
