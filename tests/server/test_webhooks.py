"""Webhooks, delivered to a real HTTP receiver on 127.0.0.1: the owner registers a URL for some
events and gets the secret once; comment threads created, replied to and resolved, mentions and
named versions arrive as JSON signed with HMAC-SHA256 of the body; a receiver that fails is
retried until it answers, and the last deliveries show what happened; private addresses are
refused unless QUIRE_WEBHOOK_ALLOW_PRIVATE; only the owner manages webhooks."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json

import pytest
import uvicorn

from server.config import Settings
from tests.server.test_comments_api import write_paragraphs
from tests.support.accounts import make_account
from tests.support.servers import run_server
from tests.support.yclient import eventually


class Receiver:
    """An HTTP endpoint that records what it is sent; `fail` answers 503 that many times."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.fail = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        status = 200
        if self.fail > 0:
            self.fail -= 1
            status = 503
        else:
            self.received.append((headers, body))
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@contextlib.asynccontextmanager
async def receiving():
    receiver = Receiver()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=0,
                                           log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield receiver, f"http://127.0.0.1:{port}/hook"
    finally:
        server.should_exit = True
        await task


def settings(sqlite_url: str, **more) -> Settings:
    return Settings(database_url=sqlite_url, unload_after=0.2, webhook_allow_private=True,
                    webhook_retry_seconds=0.2, **more)




async def seeded(server) -> str:
    doc_id = await server.new_doc("Q3 white paper")
    room = await server.rooms.with_room(doc_id)
    write_paragraphs(room.doc, "Our edge nodes serve 40% of traffic.")
    await room.drain()
    return doc_id


async def test_events_arrive_signed_with_the_secret_shown_once(sqlite_url):
    async with receiving() as (receiver, url), run_server(settings(sqlite_url)) as server:
        doc_id = await seeded(server)
        _, bea = await asyncio.to_thread(make_account, server.engine, "bea")
        async with server.client() as owner:
            await owner.post(f"/api/docs/{doc_id}/shares", json={"username": "bea",
                                                                 "role": "editor"})
            r = await owner.post(f"/api/docs/{doc_id}/webhooks", json={
                "url": url, "events": ["comment.created", "comment.replied", "comment.resolved",
                                       "mention", "version.named"]})
            assert r.status_code == 201, r.text
            secret = r.json()["secret"]
            hook_id = r.json()["id"]
            listed = (await owner.get(f"/api/docs/{doc_id}/webhooks")).json()
            assert "secret" not in listed[0]  # shown once
            thread = (await owner.post(f"/api/docs/{doc_id}/comments", json={
                "quote": "40% of traffic", "body": "@bea is this current?"})).json()["id"]
        async with server.client(bea) as client:
            await client.post(f"/api/docs/{doc_id}/comments/{thread}/replies",
                              json={"body": "Yes, March."})
            await client.patch(f"/api/docs/{doc_id}/comments/{thread}", json={"resolved": True})
            r = await client.post(f"/api/docs/{doc_id}/versions", json={"name": "Sent to legal"})
            assert r.status_code == 201, r.text
        await eventually(lambda: len(receiver.received) >= 5)
        await asyncio.sleep(0.3)

        events = {}
        for headers, body in receiver.received:
            expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(headers["x-quire-signature"], expected)
            assert headers["content-type"] == "application/json"
            payload = json.loads(body)
            assert payload["event"] == headers["x-quire-event"] and payload["doc_id"] == doc_id
            events[payload["event"]] = payload
        assert sorted(events) == ["comment.created", "comment.replied", "comment.resolved",
                                  "mention", "version.named"]
        assert len(receiver.received) == 5
        created = events["comment.created"]
        assert (created["thread_id"], created["quote"], created["message"]["body"],
                created["actor"]["username"]) == (thread, "40% of traffic",
                                                  "@bea is this current?", "tester")
        assert events["mention"]["mentioned"] == [
            (await asyncio.to_thread(__import__("storage.accounts", fromlist=["x"]).get_user_by_username,
                                     server.engine, username="bea")).id]
        assert events["comment.replied"]["message"]["body"] == "Yes, March."
        assert events["comment.resolved"]["actor"]["username"] == "bea"
        assert events["version.named"]["version"]["name"] == "Sent to legal"

        async with server.client() as owner:
            listed = (await owner.get(f"/api/docs/{doc_id}/webhooks")).json()
            assert {d["status"] for d in listed[0]["deliveries"]} == {"delivered"}
            assert (await owner.delete(f"/api/docs/{doc_id}/webhooks/{hook_id}")).status_code == 204
            await owner.post(f"/api/docs/{doc_id}/comments", json={"quote": "edge",
                                                                  "body": "after removal"})
        await asyncio.sleep(0.5)
        assert len(receiver.received) == 5


async def test_a_failing_receiver_is_retried_and_the_deliveries_say_so(sqlite_url):
    async with receiving() as (receiver, url), run_server(settings(sqlite_url)) as server:
        doc_id = await seeded(server)
        receiver.fail = 2
        async with server.client() as owner:
            await owner.post(f"/api/docs/{doc_id}/webhooks",
                             json={"url": url, "events": ["comment.created"]})
            await owner.post(f"/api/docs/{doc_id}/comments", json={"quote": "edge",
                                                                  "body": "retry me"})
        await eventually(lambda: receiver.received, timeout=15)
        assert json.loads(receiver.received[0][1])["message"]["body"] == "retry me"
        async with server.client() as owner:
            delivery = (await owner.get(f"/api/docs/{doc_id}/webhooks")).json()[0]["deliveries"][0]
        assert (delivery["status"], delivery["attempts"], delivery["last_status"]) == ("delivered", 3, 200)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:9/hook", "http://localhost/hook", "http://10.1.2.3/x", "http://[::1]/x",
    "http://169.254.169.254/latest/meta-data", "http://192.168.0.10/", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/", "ftp://example.com/x", "file:///etc/passwd",
    "http://user:pw@example.com/", "javascript:alert(1)", "http://" + "a" * 2100 + ".com/",
])
async def test_internal_and_odd_urls_are_refused(sqlite_url, url):
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2)) as server:
        doc_id = await server.new_doc()
        async with server.client() as owner:
            r = await owner.post(f"/api/docs/{doc_id}/webhooks",
                                 json={"url": url, "events": ["mention"]})
        assert r.status_code == 422, r.text
        async with server.client() as owner:
            assert (await owner.get(f"/api/docs/{doc_id}/webhooks")).json() == []


async def test_only_the_owner_manages_webhooks(sqlite_url):
    async with run_server(settings(sqlite_url)) as server:
        doc_id = await server.new_doc()
        _, bea = await asyncio.to_thread(make_account, server.engine, "bea")
        async with server.client() as owner:
            await owner.post(f"/api/docs/{doc_id}/shares", json={"username": "bea",
                                                                 "role": "editor"})
            hook = (await owner.post(f"/api/docs/{doc_id}/webhooks", json={
                "url": "http://127.0.0.1:9/x", "events": ["mention"]})).json()
        async with server.client(bea) as client:
            assert (await client.get(f"/api/docs/{doc_id}/webhooks")).status_code == 403
            assert (await client.post(f"/api/docs/{doc_id}/webhooks", json={
                "url": "http://127.0.0.1:9/x", "events": ["mention"]})).status_code == 403
            assert (await client.delete(
                f"/api/docs/{doc_id}/webhooks/{hook['id']}")).status_code == 403
        async with server.client() as owner:
            for bad in ({"url": "http://127.0.0.1:9/x", "events": []},
                        {"url": "http://127.0.0.1:9/x", "events": ["everything"]}):
                assert (await owner.post(f"/api/docs/{doc_id}/webhooks", json=bad)).status_code == 422
