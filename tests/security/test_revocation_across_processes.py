"""Revoking on one process closes the live socket on another (two `quire serve` processes
sharing a SQLite file and Redis, with a per-run channel prefix).

The periodic re-check is set to ten minutes here, so what closes the socket on B within a
few seconds can only be the control message A published through Redis. Access decisions are
kept for ten minutes too (QUIRE_ACCESS_CACHE_SECONDS), so a new socket on B refused right after
can only be refused because that message made B forget them.

| done on process A                      | the socket on process B          |
|----------------------------------------|----------------------------------|
| the owner revokes the viewer's share   | closed 4403                      |
| the owner lowers the editor to viewer  | closed 3001 (reconnect: viewer)  |
| sign out everywhere                    | closed 4401                      |
| a personal API token is revoked        | closed 4401                      |
| the owner deletes the document         | closed 4410                      |
"""

from __future__ import annotations

import pytest
import websockets

from tests.support.services import require_redis, run_prefix
from tests.support.sockets import closed_with, first_frame


@pytest.fixture(scope="module")
def pair(quire_factory):
    redis_url = require_redis()
    env = {"QUIRE_REDIS_URL": redis_url, "QUIRE_REDIS_PREFIX": run_prefix(),
           "QUIRE_ACCESS_RECHECK_SECONDS": "600", "QUIRE_ACCESS_CACHE_SECONDS": "600"}
    a = quire_factory(env)
    b = quire_factory(env, database_url=a.database_url, cast_of=a)
    return a, b


@pytest.fixture
def quire(pair):
    return pair[0]  # the harness's liveness check watches A; B is checked in each test


async def share_id(a, doc: str, role: str) -> str:
    async with a.client("owner") as owner:
        rows = (await owner.get(f"/api/docs/{doc}/shares")).json()
    return next(row["id"] for row in rows if row["username"] == a.cast[role].username)


async def test_revoking_on_a_closes_the_socket_on_b(pair):
    a, b = pair
    doc = await a.new_doc()
    victim = await share_id(a, doc, "viewer")
    async with websockets.connect(b.ws_url(doc, "viewer"), open_timeout=5) as ws:
        await first_frame(ws)
        async with a.client("owner") as owner, b.probe():
            assert (await owner.delete(f"/api/docs/{doc}/shares/{victim}")).status_code == 204
            code, reason = await closed_with(ws, 3)
    assert code == 4403 and "removed" in reason
    # B remembered a moment ago that this viewer may open the document; it forgot at once
    async with websockets.connect(b.ws_url(doc, "viewer"), open_timeout=5) as again:
        assert (await closed_with(again, 3))[0] == 4404


async def test_lowering_a_role_on_a_makes_the_socket_on_b_reconnect(pair):
    a, b = pair
    doc = await a.new_doc()
    async with websockets.connect(b.ws_url(doc, "editor"), open_timeout=5) as ws:
        await first_frame(ws)
        async with a.client("owner") as owner:
            response = await owner.post(f"/api/docs/{doc}/shares", json={
                "username": a.cast["editor"].username, "role": "viewer"})
            assert response.status_code == 201
            assert (await closed_with(ws, 3))[0] == 3001
    async with b.client("editor") as editor:
        assert (await editor.get(f"/api/docs/{doc}")).json()["role"] == "viewer"


async def test_signing_out_everywhere_on_a_closes_the_browser_socket_on_b(pair):
    a, b = pair
    doc = await a.new_doc()
    async with a.browser("commenter") as on_a, b.browser("commenter") as on_b:
        async with b.socket(doc, on_b) as ws:
            await first_frame(ws)
            assert (await on_a.post("/api/auth/logout-all")).status_code == 204
            assert await closed_with(ws, 3) == (4401, "you were signed out")
        assert (await on_b.get("/api/auth/me")).status_code == 401


async def test_revoking_a_token_on_a_closes_its_socket_on_b(pair):
    a, b = pair
    doc = await a.new_doc()
    async with a.client("editor") as editor:
        created = (await editor.post("/api/auth/tokens", json={"name": "bot"})).json()
        async with websockets.connect(b.ws_url(doc, None, token=created["token"]),
                                      open_timeout=5) as ws:
            await first_frame(ws)
            assert (await editor.delete(f"/api/auth/tokens/{created['id']}")).status_code == 204
            assert (await closed_with(ws, 3))[0] == 4401


async def test_deleting_on_a_closes_the_socket_on_b(pair):
    a, b = pair
    doc = await a.new_doc()
    async with websockets.connect(b.ws_url(doc, "editor"), open_timeout=5) as ws:
        await first_frame(ws)
        async with a.client("owner") as owner:
            assert (await owner.delete(f"/api/docs/{doc}")).status_code == 204
        assert (await closed_with(ws, 3))[0] == 4410
