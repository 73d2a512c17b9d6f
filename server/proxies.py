"""The client's address, believed from a reverse proxy's headers only when that proxy is trusted.

`QUIRE_TRUSTED_PROXIES` lists the proxies (IPs or CIDRs). When the direct peer of a request or
WebSocket is one of them, the client is the rightmost address of `X-Forwarded-For` that is not a
trusted proxy (each proxy appends the address it saw, so everything left of that may be forged
by the client), else `X-Real-IP`; `X-Forwarded-Proto` gives the scheme. From any other peer
these headers are ignored: the peer is the client. `TrustedProxies.apply` rewrites the ASGI
scope once, at the door, so the login and sign-up throttles and the per-address connection
limit all see the same address. (uvicorn's own proxy-header handling, which trusts 127.0.0.1
by default, is switched off in `quire serve`: this is the one place.)
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(spec: str | Iterable[str]) -> list[Network]:
    """"10.0.0.0/8, 127.0.0.1" -> networks. Raises ValueError on an entry that is neither."""
    items = spec.split(",") if isinstance(spec, str) else spec
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items if item.strip()]


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    value = value.strip()
    if value.startswith("[") and "]" in value:  # "[2001:db8::1]:443"
        value = value[1:value.index("]")]
    elif value.count(":") == 1:  # "203.0.113.7:5123"
        value = value.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, spec: str | Iterable[str] = "") -> None:
        self.networks = parse_networks(spec)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, host: str | None) -> bool:
        address = _ip(host) if host else None
        return address is not None and any(address in net for net in self.networks)

    def client(self, peer: str | None, headers: Iterable[tuple[bytes, bytes]]) -> str | None:
        """The client's address for a connection from `peer` carrying these (raw ASGI)
        headers."""
        if not self.trusts(peer):
            return peer
        forwarded: list[str] = []
        real_ip = None
        for name, value in headers:
            if name == b"x-forwarded-for":
                forwarded += value.decode("latin-1").split(",")
            elif name == b"x-real-ip":
                real_ip = value.decode("latin-1")
        # right to left: the first hop no trusted proxy vouches for is the client
        hop = None
        for entry in reversed(forwarded):
            address = _ip(entry)
            if address is None:
                break  # garbage a client wrote: keep the last hop a trusted proxy vouched for
            hop = str(address)
            if not any(address in net for net in self.networks):
                return hop
        if hop is not None:
            return hop  # every hop is a trusted proxy: the leftmost one
        if real_ip is not None and (address := _ip(real_ip)) is not None:
            return str(address)
        return peer

    def scheme(self, scope, headers: Iterable[tuple[bytes, bytes]]) -> str:
        proto = None
        for name, value in headers:
            if name == b"x-forwarded-proto":
                proto = value.decode("latin-1").split(",")[-1].strip().lower()
        if proto not in ("http", "https"):
            return scope["scheme"]
        secure = proto == "https"
        if scope["type"] == "websocket":
            return "wss" if secure else "ws"
        return "https" if secure else "http"

    def apply(self, scope):
        """`scope` with its client (and scheme) as the trusted proxy reported them."""
        if not self.networks or scope["type"] not in ("http", "websocket"):
            return scope
        peer = scope.get("client")
        if not peer or not self.trusts(peer[0]):
            return scope
        headers = scope.get("headers") or []
        host = self.client(peer[0], headers)
        return {**scope, "client": (host, 0 if host != peer[0] else peer[1]),
                "scheme": self.scheme(scope, headers)}
