"""The relay keeps one Redis client however often Redis drops it (issue 20, item 7): its
subscriber reconnects through that client's pool, and nothing it opened stays open.

| situation                                        | expected                                    |
|--------------------------------------------------|---------------------------------------------|
| Redis kills both processes' subscriptions 5 times | each resubscribes every time; typing on one |
|                                                  | process still reaches a person on the other;|
|                                                  | each made one Redis client, and holds at    |
|                                                  | most two connections (pooled, subscribed)   |
"""

from __future__ import annotations

import contextlib

import redis.asyncio as redis
from pycrdt import Text

from server.config import Settings
from tests.support.servers import run_server
from tests.support.services import private_redis, run_prefix
from tests.support.yclient import eventually, joined


async def test_typing_crosses_processes_after_redis_drops_them_and_no_client_leaks(
        sqlite_url, monkeypatch):
    made: list[str] = []
    from_url = redis.Redis.from_url

    def counting(url: str, *args, **kwargs):
        made.append(url)
        return from_url(url, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "from_url", counting)
    # a private Redis: killing its connections must not touch anyone else's
    with private_redis() as private:
        admin = from_url(private.url)
        await admin.client_setname("test-admin")
        prefix = run_prefix()
        async with contextlib.AsyncExitStack() as stack:
            servers = [await stack.enter_async_context(run_server(Settings(
                database_url=sqlite_url, redis_url=private.url, redis_prefix=prefix)))
                for _ in range(2)]
            relays = [server.app.state.relay for server in servers]
            await eventually(lambda: all(r.connected for r in relays), timeout=5)
            one, two = servers
            doc_id = await one.new_doc()
            ada = await joined(one, doc_id)
            bo = await joined(two, doc_id)
            text_a, text_b = ada.doc.get("t", type=Text), bo.doc.get("t", type=Text)
            for round_ in range(5):
                killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                assert killed >= 2  # both processes' subscriptions
                await eventually(lambda r=round_: all(x.stats.reconnects > r and x.connected
                                                      for x in relays), timeout=5)
                word = f"word{round_} "
                text_a.insert(len(text_a), word)
                await eventually(lambda w=word: str(text_b).endswith(w), timeout=5)
            assert str(text_b) == "".join(f"word{n} " for n in range(5))
            assert len(made) == 2, made  # one client per process, made once each
            # each process: its subscription and one pooled connection (publish, ping)
            others = [c for c in await admin.client_list() if c.get("name") != "test-admin"]
            assert len(others) <= 4, others
            await ada.close()
            await bo.close()
        await admin.aclose()
