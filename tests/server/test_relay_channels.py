"""Per-document Redis channels and presence on join, with two real server processes sharing
a database and Redis.

| situation                                               | expected                          |
|---------------------------------------------------------|-----------------------------------|
| someone types in a document only process A holds        | B receives nothing at all         |
| B opens that document                                   | B subscribes; the typing reaches B |
| an author is on A, a newcomer opens the document on B   | the newcomer sees the author < 1 s |
| the author leaves                                       | gone on B within 1 s              |
| the last person leaves B                                | B unsubscribes                    |
"""

from __future__ import annotations

import asyncio
import time

import pytest
from pycrdt import Text

from tests.server.test_relay import cluster, text_of
from tests.support.services import require_redis
from tests.support.yclient import eventually, joined


@pytest.fixture
def redis_url() -> str:
    return require_redis()


async def test_a_process_hears_only_the_documents_it_holds(sqlite_url, redis_url):
    async with cluster(sqlite_url, redis_url, 2) as (one, two):
        relay_two = two.app.state.relay
        doc_id = await one.new_doc()
        a = await joined(one, doc_id)
        before = relay_two.stats.received
        for i in range(20):
            a.doc.get("t", type=Text).insert(i, "x")
            await asyncio.sleep(0.01)
        await eventually(lambda: one.rooms.stats.updates_persisted >= 20)
        await asyncio.sleep(0.3)
        assert relay_two.stats.received == before  # nothing for a document it does not hold
        assert relay_two.stats.subscribed == 0

        b = await joined(two, doc_id)
        await eventually(lambda: relay_two.stats.subscribed == 1)
        await eventually(lambda: text_of(b) == "x" * 20)
        a.doc.get("t", type=Text).insert(0, "live ")
        await eventually(lambda: text_of(b).startswith("live "))
        assert relay_two.stats.received > before
        await b.close()
        await eventually(lambda: two.rooms.open_room(doc_id) is None, timeout=5)
        await eventually(lambda: relay_two.stats.subscribed == 0, timeout=5)
        async with two.client() as http:
            metrics = (await http.get("/metrics", headers={
                "Authorization": "Bearer metrics-test-token"})).text
        assert "quire_relay_subscribed_documents 0.0" in metrics
        await a.close()


async def test_a_newcomer_on_another_process_sees_who_is_here_at_once(sqlite_url, redis_url):
    async with cluster(sqlite_url, redis_url, 2) as (one, two):
        doc_id = await one.new_doc()
        author = await joined(one, doc_id)
        await author.set_user({"user": {"name": "Ada", "color": "#aa3300"},
                               "cursor": {"anchor": 1, "head": 1}})
        await asyncio.sleep(0.3)  # the author is settled: nothing they send is pending
        started = time.monotonic()
        newcomer = await joined(two, doc_id)
        await eventually(lambda: author.doc.client_id in newcomer.awareness.states, timeout=1.0)
        seen_after = time.monotonic() - started
        assert seen_after < 1.0
        state = newcomer.awareness.states[author.doc.client_id]
        assert state["cursor"] == {"anchor": 1, "head": 1}
        await author.close()
        await eventually(lambda: author.doc.client_id not in newcomer.awareness.states,
                         timeout=1.0)
        await newcomer.close()
