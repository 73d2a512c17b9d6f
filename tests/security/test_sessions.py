"""Sessions and sockets, attacked against a real `quire serve` (issue 14, item 6).

| attack                                                          | the server's answer          |
|-----------------------------------------------------------------|------------------------------|
| a page of another origin opens a socket with the victim's cookie | 4406 before any document byte |
| the cookie on a socket without Origin (not a browser)            | ignored: 4401                |
| sign out everywhere, from one browser                           | other browsers: REST 401, live socket 4401 |
| password change, from one browser                               | same for the others; this one stays |
| a revoked personal API token's open socket                      | 4401 at once                 |
| a share link that expires while its socket is open              | 4403 within the re-check interval |
| a session that expires while its socket is open                 | 4401 within the re-check interval |
| /metrics without (or with a wrong) token                        | 401, no data                 |
| an unknown id vs a document not shared with you                 | the same 4404 and reason     |
| a crowd of handshakes at once (they share the opener's visits): | each its own answer: 4404 to |
| a stranger's to a private document and to unknown ids, mixed    | the stranger, no byte of the |
| with members opening a shared one                               | document; members synced     |
"""

from __future__ import annotations

import asyncio
import secrets

import httpx
import pytest
import websockets
from pycrdt import XmlFragment

from tests.support.accounts import TEST_PASSWORD, make_account
from tests.support.sockets import closed_with, first_frame, refused_before_any_data
from tests.support.yclient import YClient

RECHECK = 0.5  # QUIRE_ACCESS_RECHECK_SECONDS for this module's server


@pytest.fixture(scope="module")
def quire(quire_factory):
    """This module's server re-checks live connections every half second (expiry)."""
    return quire_factory(env={"QUIRE_ACCESS_RECHECK_SECONDS": str(RECHECK)})


def new_person(quire, stem: str) -> str:
    """A fresh account (password TEST_PASSWORD), so signing it out harms no other test."""
    from sqlalchemy import create_engine

    engine = create_engine(quire.database_url)
    try:
        username, _ = make_account(engine, f"{stem}-{secrets.token_hex(3)}")
    finally:
        engine.dispose()
    return username


async def share(quire, doc_id: str, username: str, role: str = "editor") -> None:
    async with quire.client("owner") as owner:
        response = await owner.post(f"/api/docs/{doc_id}/shares",
                                    json={"username": username, "role": role})
        response.raise_for_status()


# ---- Origin ---------------------------------------------------------------------------------


async def test_cross_site_socket_with_the_session_cookie_is_refused(quire):
    doc = await quire.new_doc()
    port = quire.process.port
    foreign = [f"http://127.0.0.1:{port + 1}",  # another port on localhost
               f"http://evil.127.0.0.1.nip.io:{port}",  # a sibling host
               f"https://127.0.0.1:{port}.evil.example",
               "null"]  # a sandboxed frame or a file:// page
    async with quire.browser("editor") as browser, quire.probe():
        for origin in foreign:
            async with quire.socket(doc, browser, origin=origin) as ws:
                code, reason = await refused_before_any_data(ws)
            assert code == 4406, (origin, code, reason)
        # a token does not make a foreign page welcome either
        async with quire.socket(doc, None, origin=foreign[0],
                                token=quire.cast["editor"].token) as ws:
            assert (await refused_before_any_data(ws))[0] == 4406


async def test_same_origin_browser_socket_works(quire):
    doc = await quire.new_doc()
    async with quire.browser("editor") as browser:
        async with quire.socket(doc, browser) as ws:  # Origin: this server
            step1 = await first_frame(ws)
            assert step1[:2] == b"\x00\x00"  # the server's sync step 1: the document opens
            await ws.send(b"\x00\x00\x01\x00")  # our own sync step 1: an empty state vector
            reply = await asyncio.wait_for(ws.recv(), 5)
            assert reply[:2] == b"\x00\x01" and len(reply) > 20  # the document's content
            assert ws.close_code is None


async def test_cookie_without_origin_is_ignored_but_tokens_work(quire):
    doc = await quire.new_doc()
    async with quire.browser("editor") as browser:
        async with quire.socket(doc, browser, origin=None) as ws:
            code, _ = await refused_before_any_data(ws)
        assert code == 4401  # only a browser holds a cookie, and a browser sends Origin
    # scripts and the Node / pycrdt clients send a token and no Origin
    async with websockets.connect(quire.ws_url(doc, "editor"), open_timeout=5) as ws:
        await first_frame(ws)


# ---- revoking sessions ----------------------------------------------------------------------


async def test_sign_out_everywhere_ends_every_session_and_socket(quire):
    doc = await quire.new_doc()
    username = new_person(quire, "roamer")
    await share(quire, doc, username)
    async with quire.browser(username=username) as laptop, \
            quire.browser(username=username) as phone:
        async with quire.socket(doc, phone) as ws:
            await first_frame(ws)
            response = await laptop.post("/api/auth/logout-all")
            assert response.status_code == 204
            assert await closed_with(ws, 3) == (4401, "you were signed out")
        for browser in (laptop, phone):
            assert (await browser.get("/api/auth/me")).status_code == 401
            assert (await browser.get(f"/api/docs/{doc}")).status_code == 401
        # the old cookie opens no socket either
        async with quire.socket(doc, phone) as ws:
            assert (await refused_before_any_data(ws))[0] == 4401


async def test_password_change_ends_the_other_sessions(quire):
    doc = await quire.new_doc()
    username = new_person(quire, "changer")
    await share(quire, doc, username)
    new_password = "a brand new passphrase"
    async with quire.browser(username=username) as here, \
            quire.browser(username=username) as elsewhere:
        async with quire.socket(doc, here) as mine, quire.socket(doc, elsewhere) as theirs:
            await first_frame(mine)
            await first_frame(theirs)
            wrong = await here.post("/api/auth/password",
                                    json={"current": "not it at all", "new": new_password})
            assert wrong.status_code == 403
            response = await here.post("/api/auth/password",
                                       json={"current": TEST_PASSWORD, "new": new_password})
            assert response.status_code == 204
            assert await closed_with(theirs, 3) == (4401, "you were signed out")
            assert await closed_with(mine, 1) == (None, "")  # this browser stays signed in
        assert (await elsewhere.get("/api/auth/me")).status_code == 401
        assert (await here.get("/api/auth/me")).json()["username"] == username
    async with httpx.AsyncClient(base_url=quire.http) as anyone:
        old = await anyone.post("/api/auth/login",
                                json={"username": username, "password": TEST_PASSWORD})
        assert old.status_code == 401
        new = await anyone.post("/api/auth/login",
                                json={"username": username, "password": new_password})
        assert new.status_code == 200


async def test_revoked_api_token_closes_its_socket(quire):
    doc = await quire.new_doc()
    async with quire.client("editor") as editor:
        created = (await editor.post("/api/auth/tokens", json={"name": "bot"})).json()
        async with websockets.connect(quire.ws_url(doc, None, token=created["token"]),
                                      open_timeout=5) as ws:
            await first_frame(ws)
            response = await editor.delete(f"/api/auth/tokens/{created['id']}")
            assert response.status_code == 204
            assert (await closed_with(ws, 3))[0] == 4401


# ---- expiry ---------------------------------------------------------------------------------


async def test_share_link_expiry_closes_its_open_socket(quire):
    doc = await quire.new_doc()
    async with quire.client("owner") as owner:
        response = await owner.post(f"/api/docs/{doc}/links",
                                    json={"role": "editor", "expires_in_days": 1.5 / 86400})
        link = response.json()["token"]
    async with quire.probe():
        async with websockets.connect(quire.ws_url(doc, None, token=link), open_timeout=5) as ws:
            await first_frame(ws)
            code, reason = await closed_with(ws, 1.5 + RECHECK + 2)
        assert (code, reason) == (4403, "Your link to this document expired")
    async with websockets.connect(quire.ws_url(doc, None, token=link), open_timeout=5) as ws:
        assert (await refused_before_any_data(ws))[0] == 4401


@pytest.fixture(scope="module")
def short_sessions(quire_factory):
    """A server whose sessions last three seconds."""
    return quire_factory(env={"QUIRE_ACCESS_RECHECK_SECONDS": str(RECHECK),
                              "QUIRE_SESSION_MAX_AGE": "3"})


async def test_session_expiry_closes_its_open_socket(short_sessions):
    short = short_sessions
    doc = await short.new_doc()
    async with short.browser("editor") as browser:
        async with short.socket(doc, browser) as ws:
            await first_frame(ws)
            assert await closed_with(ws, 3 + RECHECK + 2) == (4401, "you were signed out")


# ---- /metrics and probing ids ---------------------------------------------------------------


async def test_metrics_need_the_token(quire):
    async with quire.client(None) as anyone:
        for headers in ({}, {"Authorization": "Bearer wrong"},
                        {"Authorization": f"Bearer {quire.cast['owner'].token}"}):
            response = await anyone.get("/metrics", headers=headers)
            assert response.status_code == 401, headers
            assert "quire_" not in response.text
        response = await anyone.get("/metrics", headers=quire.metrics_headers)
        assert response.status_code == 200 and "quire_connections" in response.text


async def test_unknown_and_unshared_documents_look_the_same(quire):
    async with quire.client("owner") as owner:
        private = (await owner.post("/api/docs", json={"title": "Private"})).json()["id"]
    unknown = secrets.token_urlsafe(16)
    answers = []
    for doc in (private, unknown):
        async with websockets.connect(quire.ws_url(doc, "viewer"), open_timeout=5) as ws:
            answers.append(await refused_before_any_data(ws))
    assert answers[0] == answers[1] == (4404, "document not found")
    async with quire.client("viewer") as viewer:
        bodies = [(r.status_code, r.json()) for r in
                  [await viewer.get(f"/api/docs/{doc}") for doc in (private, unknown)]]
    assert bodies[0] == bodies[1] and bodies[0][0] == 404


async def test_a_crowd_of_handshakes_each_gets_its_own_answer(quire):
    """Handshakes in flight are answered together, in one worker-thread visit (server/opener.py):
    none may get another's answer, and a stranger's may not make the server send (or read) a
    document they may not open."""
    async with quire.client("owner") as owner:
        private = (await owner.post("/api/docs", json={"title": "Private plans"})).json()["id"]
    shared = await quire.new_doc()
    before = await quire.owner_view(private)

    async def stranger(doc_id: str) -> tuple[int | None, str]:
        async with websockets.connect(quire.ws_url(doc_id, "viewer"), open_timeout=10) as ws:
            return await refused_before_any_data(ws)

    async def member(role: str) -> str:
        client = YClient(quire.ws_url(shared, role))
        await client.connect(timeout=10)
        try:
            await client.wait_synced(timeout=10)
            return str(client.doc.get("default", type=XmlFragment))
        finally:
            await client.close()

    async with quire.probe():
        answers = await asyncio.gather(
            *[stranger(private) for _ in range(30)],
            *[stranger(secrets.token_urlsafe(16)) for _ in range(30)],
            *[member(("viewer", "editor", "commenter")[n % 3]) for n in range(30)])
    assert answers[:60] == [(4404, "document not found")] * 60
    assert all("The first paragraph of the plan." in text for text in answers[60:])
    assert await quire.owner_view(private) == before
