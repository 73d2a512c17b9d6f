"""Sign-in, sign-up and connection limits, attacked against a real `quire serve`.

Each attacker connects from its own loopback address (127.0.0.x), so the per-address limits of
one test do not touch another. 127.0.0.2 plays a reverse proxy listed in QUIRE_TRUSTED_PROXIES;
every other address is an ordinary, untrusted client.

| attack                                                         | the server's answer           |
|----------------------------------------------------------------|-------------------------------|
| guessing one account's password                                | back-off, which ends (cap)    |
| forged X-Forwarded-For / X-Real-IP from an untrusted peer      | ignored: the peer is throttled |
| many clients behind the trusted proxy                          | each its own address          |
| simultaneous handshakes above the per-address limit            | all but the limit get 1013    |
| a flood of sign-ups from one address                           | 429 past QUIRE_SIGNUPS_PER_HOUR |
| a burst of sign-ins and sign-ups (password hashing)            | /healthz still under 1 s      |
| /metrics on a server without QUIRE_METRICS_TOKEN               | 404                           |
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

import httpx
import pytest
import websockets

from tests.support.accounts import TEST_PASSWORD

PROXY = "127.0.0.2"
ATTEMPTS = 3  # free failures per username; an address gets four times as many
CAP = 1  # seconds: the longest back-off
LIMIT = 4  # WebSockets per address


@pytest.fixture(scope="module")
def quire(quire_factory):
    return quire_factory(env={
        "QUIRE_TRUSTED_PROXIES": f"{PROXY}/32",
        "QUIRE_LOGIN_ATTEMPTS": str(ATTEMPTS),
        "QUIRE_LOGIN_BACKOFF_MAX_SECONDS": str(CAP),
        "QUIRE_SIGNUPS_PER_HOUR": "3",
        "QUIRE_MAX_CONNECTIONS_PER_ADDRESS": str(LIMIT),
        "QUIRE_METRICS_TOKEN": "",
    })


def from_address(quire, address: str, **kwargs) -> httpx.AsyncClient:
    """An HTTP client whose connections come from `address` (a loopback alias)."""
    transport = httpx.AsyncHTTPTransport(local_address=address)
    return httpx.AsyncClient(base_url=quire.http, transport=transport, timeout=20, **kwargs)


async def login(client: httpx.AsyncClient, username: str, password: str = "wrong guess",
                **headers: str) -> httpx.Response:
    return await client.post("/api/auth/login", json={"username": username, "password": password},
                             headers=headers)


async def test_login_back_off_ends(quire):
    victim = quire.cast["commenter"].username
    async with from_address(quire, "127.0.0.3") as attacker:
        for _ in range(ATTEMPTS):
            assert (await login(attacker, victim)).status_code == 401
        refused = await login(attacker, victim, TEST_PASSWORD)
        assert refused.status_code == 429  # even the right password waits
        assert 1 <= int(refused.headers["retry-after"]) <= CAP
        await asyncio.sleep(CAP + 0.1)  # another failure doubles the wait, but past no cap
        assert (await login(attacker, victim)).status_code == 401
        refused = await login(attacker, victim)
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) <= CAP
        await asyncio.sleep(CAP + 0.1)
        assert (await login(attacker, victim, TEST_PASSWORD)).status_code == 200


async def test_forged_forwarded_for_from_an_untrusted_peer_is_ignored(quire):
    # 127.0.0.1 is not a trusted proxy here (uvicorn alone would have believed it)
    async with from_address(quire, "127.0.0.1") as attacker:
        for i in range(ATTEMPTS * 4):
            forged = f"198.51.100.{i + 1}"
            response = await login(attacker, f"nobody-{i}", **{"X-Forwarded-For": forged,
                                                                "X-Real-IP": forged})
            assert response.status_code == 401, i
        response = await login(attacker, "nobody-else", **{"X-Forwarded-For": "198.51.100.99"})
        assert response.status_code == 429  # every guess counted against 127.0.0.1
    await asyncio.sleep(CAP + 0.1)  # leave 127.0.0.1 usable for the other tests


async def test_the_trusted_proxys_client_address_is_honoured(quire):
    async with from_address(quire, PROXY) as proxy:
        for i in range(ATTEMPTS * 4):
            response = await login(proxy, f"guess-{i}", **{"X-Forwarded-For": "203.0.113.7"})
            assert response.status_code == 401, i
        assert (await login(proxy, "guess", **{"X-Forwarded-For": "203.0.113.7"})).status_code \
            == 429
        # another person behind the same proxy is not locked out
        assert (await login(proxy, "guess", **{"X-Forwarded-For": "203.0.113.8"})).status_code \
            == 401
        # what a client writes left of the proxy's own entry is not believed (rightmost hop)
        forged = {"X-Forwarded-For": "203.0.113.9, 203.0.113.7"}
        assert (await login(proxy, "guess", **forged)).status_code == 429
        assert (await login(proxy, "guess", **{"X-Real-IP": "203.0.113.7"})).status_code == 429
    # WebSockets through the proxy count per client too: more than LIMIT, one client each
    doc = await quire.new_doc()
    async with contextlib.AsyncExitStack() as stack:
        for i in range(LIMIT + 2):
            ws = await stack.enter_async_context(websockets.connect(
                quire.ws_url(doc, "viewer"), local_addr=(PROXY, 0), open_timeout=5,
                additional_headers={"X-Forwarded-For": f"203.0.113.{100 + i}"}))
            assert (await asyncio.wait_for(ws.recv(), 5))[:1] == b"\x00", i


async def test_simultaneous_handshakes_cannot_pass_the_connection_limit(quire):
    doc = await quire.new_doc()
    url = quire.ws_url(doc, "viewer")

    async def attempt(stack: contextlib.AsyncExitStack) -> int | None:
        ws = await stack.enter_async_context(websockets.connect(
            url, local_addr=("127.0.0.5", 0), open_timeout=10))
        try:
            await asyncio.wait_for(ws.recv(), 10)
            return None  # admitted: stays open until the stack closes
        except websockets.ConnectionClosed:
            return ws.close_code

    async with quire.probe(), contextlib.AsyncExitStack() as stack:
        results = await asyncio.gather(*(attempt(stack) for _ in range(16)))
        assert results.count(None) == LIMIT, results
        assert set(results) == {None, 1013}, results
    # the slots came back when those sockets closed
    await asyncio.sleep(0.3)
    async with websockets.connect(url, local_addr=("127.0.0.5", 0), open_timeout=5) as ws:
        assert (await asyncio.wait_for(ws.recv(), 5))[:1] == b"\x00"


async def test_a_flood_of_sign_ups_is_throttled(quire):
    async with from_address(quire, "127.0.0.6") as flood:
        codes = []
        for i in range(5):
            response = await flood.post("/api/auth/signup", json={
                "username": f"flood-{secrets.token_hex(3)}-{i}", "password": "long enough pw"})
            codes.append(response.status_code)
        assert codes == [201, 201, 201, 429, 429]
        assert int(response.headers["retry-after"]) > 0


async def test_a_burst_of_sign_ins_and_sign_ups_keeps_healthz_fast(quire):
    people = [person.username for person in quire.cast.values()] * ATTEMPTS
    # one client made before the probe starts (making one costs this process ~50 ms of CPU);
    # every request is another person behind the proxy, so no address limit applies
    async with from_address(quire, PROXY) as proxy:

        async def sign_up(i: int) -> int:
            response = await proxy.post(
                "/api/auth/signup",
                json={"username": f"burst-{secrets.token_hex(3)}", "password": "long enough pw"},
                headers={"X-Forwarded-For": f"192.0.2.{i + 1}"})
            return response.status_code

        async def sign_in(i: int, username: str) -> int:
            response = await login(proxy, username, TEST_PASSWORD,
                                   **{"X-Forwarded-For": f"192.0.2.{100 + i}"})
            return response.status_code

        async with quire.probe() as probe:
            codes = await asyncio.gather(*(sign_up(i) for i in range(16)),
                                         *(sign_in(i, name) for i, name in enumerate(people)))
    assert codes == [201] * 16 + [200] * len(people)
    assert len(probe.latencies) >= 5  # the burst lasted a while: the probe saw it


async def test_metrics_are_not_served_without_a_token(quire):
    async with quire.client(None) as anyone:
        response = await anyone.get("/metrics")
        assert response.status_code == 404 and "quire_" not in response.text
        response = await anyone.get("/metrics", headers={"Authorization": "Bearer x"})
        assert response.status_code == 404
