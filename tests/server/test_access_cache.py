"""New connections reuse a granted access decision for a moment (server/access_cache.py), and
never one that access changes made wrong.

| what happened                                            | the next socket            |
|----------------------------------------------------------|----------------------------|
| the same person opened the document a moment ago         | accepted, no database read |
| the owner revoked the link / lowered the role (announced)| refused / the new role     |
| the person signed out (this browser)                     | refused                    |
| refused a moment ago, then invited                       | accepted (refusals are not kept) |
| revoked behind Quire's back (not announced)              | refused after the lifetime |
"""

from __future__ import annotations

import asyncio
import time

import pytest

from server.access import Principal
from server.access_cache import MAX_ENTRIES, AccessCache
from server.config import Settings
from storage import shares as store_shares
from tests.support.accounts import link_share, make_account
from tests.support.servers import run_server
from tests.support.yclient import YClient


async def outcome(server, doc_id: str, token: str) -> int | None:
    """None when the socket synced, else the code it was closed with."""
    client = YClient(server.ws(doc_id, token=token))
    await client.connect()
    synced = asyncio.ensure_future(client.wait_synced())
    closed = asyncio.ensure_future(client.closed.wait())
    await asyncio.wait({synced, closed}, timeout=5, return_when=asyncio.FIRST_COMPLETED)
    synced.cancel()
    closed.cancel()
    code = None if not client.closed.is_set() else client.close_code
    await client.close()
    return code


@pytest.fixture
async def long_memory(sqlite_url):
    """A server that would keep decisions ten minutes: only forgetting can explain a refusal."""
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2,
                                   access_cache_seconds=600)) as live:
        yield live


async def test_a_decision_is_reused_without_asking_the_database(long_memory):
    server = long_memory
    doc_id = await server.new_doc()
    link = await server.link(doc_id, "editor")
    assert await outcome(server, doc_id, link) is None
    # the row is gone behind Quire's back: only the remembered decision can let it in
    share = link_share(server.engine, link)
    store_shares.revoke_share(server.engine, doc_id=doc_id, share_id=share.id)
    assert await outcome(server, doc_id, link) is None


async def test_announced_revocation_is_never_served_from_memory(long_memory):
    server = long_memory
    doc_id = await server.new_doc()
    link = await server.link(doc_id, "editor")
    assert await outcome(server, doc_id, link) is None
    share = link_share(server.engine, link)
    async with server.client() as http:
        assert (await http.delete(f"/api/docs/{doc_id}/shares/{share.id}")).status_code == 204
    assert await outcome(server, doc_id, link) == 4401


async def test_lowered_role_is_read_again(long_memory):
    server = long_memory
    doc_id = await server.new_doc()
    username, token = await asyncio.to_thread(make_account, server.engine, "invitee")
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username,
                                                                 "role": "editor"})
        assert r.status_code == 201
    assert await outcome(server, doc_id, token) is None
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username,
                                                                 "role": "viewer"})
        assert r.status_code == 201
    client = YClient(server.ws(doc_id, token=token))
    await client.connect()
    await client.wait_synced()
    room = server.rooms.open_room(doc_id)
    assert [c.role for c in room.connections] == ["viewer"]
    await client.close()


async def test_a_refusal_is_not_remembered(long_memory):
    server = long_memory
    doc_id = await server.new_doc()
    username, token = await asyncio.to_thread(make_account, server.engine, "latecomer")
    assert await outcome(server, doc_id, token) == 4404
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username,
                                                                 "role": "viewer"})
        assert r.status_code == 201
    assert await outcome(server, doc_id, token) is None


async def test_unannounced_revocation_is_seen_after_the_lifetime(sqlite_url):
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2,
                                   access_cache_seconds=0.3)) as server:
        doc_id = await server.new_doc()
        link = await server.link(doc_id, "viewer")
        assert await outcome(server, doc_id, link) is None
        share = link_share(server.engine, link)
        store_shares.revoke_share(server.engine, doc_id=doc_id, share_id=share.id)
        await asyncio.sleep(0.4)
        assert await outcome(server, doc_id, link) == 4401


# ---- the table itself --------------------------------------------------------------------------


def somebody() -> Principal:
    from storage.models import User

    return Principal(user=User(id="u1", username="ada", display_name="Ada", password_hash="x"),
                     api_token="h")


def test_entries_expire_and_anonymous_or_refused_are_not_kept(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    cache = AccessCache(2.0)
    ada = somebody()
    cache.remember("d", None, "qp_x", Principal(), "owner")  # anonymous: nothing kept
    assert cache.principal(None, "qp_x") is None
    cache.remember("d", None, "qp_x", ada, None)  # refused: only who it is
    assert cache.decision("d", None, "qp_x") is None
    assert cache.principal(None, "qp_x") is ada
    cache.remember("d", None, "qp_x", ada, "editor")
    assert cache.decision("d", None, "qp_x") == (ada, "editor")
    assert cache.decision("other", None, "qp_x") is None
    now[0] += 2.01
    assert cache.decision("d", None, "qp_x") is None
    assert cache.principal(None, "qp_x") is None


def test_the_table_is_bounded_and_zero_keeps_nothing():
    cache = AccessCache(60.0)
    for n in range(MAX_ENTRIES + 50):
        cache.remember(f"d{n}", None, "qp_x", somebody(), "viewer")
    assert cache.decision("d0", None, "qp_x") is None
    assert cache.decision(f"d{MAX_ENTRIES + 49}", None, "qp_x") is not None
    off = AccessCache(0)
    off.remember("d", None, "qp_x", somebody(), "viewer")
    assert off.decision("d", None, "qp_x") is None


def test_a_link_that_expired_since_is_asked_about_again():
    from datetime import timedelta

    from storage.models import Share, utcnow

    link = Share(id="s1", doc_id="d", role="editor", token_hash="h",
                 expires_at=utcnow() + timedelta(seconds=60))
    cache = AccessCache(60.0)
    cache.remember("d", None, "qs_x", Principal(link=link), "editor")
    assert cache.decision("d", None, "qs_x") is not None
    link.expires_at = utcnow() - timedelta(seconds=1)  # it ran out while remembered
    assert cache.decision("d", None, "qs_x") is None
    assert cache.principal(None, "qs_x") is None
