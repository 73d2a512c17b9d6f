"""server/origins.py: which pages may open a document WebSocket."""

from __future__ import annotations

import pytest

from server.origins import OriginPolicy


@pytest.mark.parametrize("origin, host, allowed", [
    ("http://127.0.0.1:8000", "127.0.0.1:8000", True),  # `make run`, no setting needed
    ("http://127.0.0.1:5173", "127.0.0.1:8000", False),  # another port on localhost
    ("http://localhost:8000", "127.0.0.1:8000", False),
    ("http://evil.example:8000", "127.0.0.1:8000", False),
    ("https://quire.example.com", "quire.example.com", True),  # default ports
    ("https://quire.example.com", "quire.example.com:443", True),
    ("https://docs.quire.example.com", "quire.example.com", False),  # a sibling host
    ("null", "127.0.0.1:8000", False),
    ("", "127.0.0.1:8000", False),
    ("http://[::1]:8000", "[::1]:8000", True),
])
def test_without_a_public_url_the_page_must_come_from_the_host_it_called(origin, host, allowed):
    assert OriginPolicy().allows(origin, host) is allowed


def test_with_a_public_url_only_it_and_the_allow_list_count():
    policy = OriginPolicy("https://quire.example.com/", "https://intranet.example:8443")
    assert policy.allows("https://quire.example.com", "10.0.0.5:8000")
    assert policy.allows("https://QUIRE.example.com:443", None)
    assert policy.allows("https://intranet.example:8443", "quire.example.com")
    assert not policy.allows("http://quire.example.com", "quire.example.com")  # scheme
    # a request sent to an internal name does not make that name's pages welcome
    assert not policy.allows("http://10.0.0.5:8000", "10.0.0.5:8000")


def test_bad_settings_are_errors():
    with pytest.raises(ValueError):
        OriginPolicy("quire.example.com")
    with pytest.raises(ValueError):
        OriginPolicy(None, "ftp://files.example")

