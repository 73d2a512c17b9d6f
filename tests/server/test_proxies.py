"""server/proxies.py: whose X-Forwarded-For is believed, and which hop is the client."""

from __future__ import annotations

import pytest

from server.proxies import TrustedProxies


def headers(**values: str) -> list[tuple[bytes, bytes]]:
    return [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in values.items()]


PROXIES = TrustedProxies("10.0.0.0/8, 127.0.0.1")


@pytest.mark.parametrize("peer, given, client", [
    # an untrusted peer: its headers mean nothing
    ("203.0.113.5", headers(x_forwarded_for="1.2.3.4", x_real_ip="1.2.3.4"), "203.0.113.5"),
    # a trusted proxy: the rightmost hop that is not one of ours
    ("127.0.0.1", headers(x_forwarded_for="198.51.100.1"), "198.51.100.1"),
    ("127.0.0.1", headers(x_forwarded_for="6.6.6.6, 198.51.100.1"), "198.51.100.1"),
    ("127.0.0.1", headers(x_forwarded_for="6.6.6.6, 198.51.100.1, 10.1.2.3"), "198.51.100.1"),
    ("10.9.9.9", [(b"x-forwarded-for", b"6.6.6.6"), (b"x-forwarded-for", b"198.51.100.2")],
     "198.51.100.2"),
    # every hop is ours: the leftmost
    ("127.0.0.1", headers(x_forwarded_for="10.0.0.7, 10.0.0.8"), "10.0.0.7"),
    # garbage written by the client stops the walk at the last hop we vouch for
    ("127.0.0.1", headers(x_forwarded_for="not-an-ip, 10.0.0.8"), "10.0.0.8"),
    ("127.0.0.1", headers(x_forwarded_for="198.51.100.3:5123"), "198.51.100.3"),
    ("127.0.0.1", headers(x_forwarded_for="[2001:db8::1]:443"), "2001:db8::1"),
    # X-Real-IP when there is no X-Forwarded-For
    ("127.0.0.1", headers(x_real_ip="198.51.100.4"), "198.51.100.4"),
    ("127.0.0.1", headers(x_real_ip="garbage"), "127.0.0.1"),
    ("127.0.0.1", [], "127.0.0.1"),
    ("::ffff:127.0.0.1", headers(x_forwarded_for="198.51.100.5"), "198.51.100.5"),
])
def test_client_address(peer, given, client):
    assert PROXIES.client(peer, given) == client


def test_nobody_is_trusted_by_default():
    proxies = TrustedProxies("")
    scope = {"type": "http", "client": ("127.0.0.1", 5000), "scheme": "http",
             "headers": headers(x_forwarded_for="1.2.3.4", x_forwarded_proto="https")}
    assert proxies.apply(scope) is scope


def test_apply_rewrites_client_and_scheme_for_a_trusted_peer():
    scope = {"type": "websocket", "client": ("127.0.0.1", 5000), "scheme": "ws",
             "headers": headers(x_forwarded_for="198.51.100.1", x_forwarded_proto="https")}
    rewritten = PROXIES.apply(scope)
    assert rewritten["client"][0] == "198.51.100.1" and rewritten["scheme"] == "wss"
    assert scope["client"] == ("127.0.0.1", 5000)  # the original is left alone


def test_a_bad_setting_is_an_error():
    with pytest.raises(ValueError):
        TrustedProxies("10.0.0.0/8, proxy.example")
