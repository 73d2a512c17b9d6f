"""The relay keeps one Redis client however often Redis drops it (issue 20, item 7): its
subscriber reconnects through that client's pool, and nothing it opened stays open.

| situation                                        | expected                                    |
|--------------------------------------------------|---------------------------------------------|
| Redis kills the relay's subscription 5 times     | it resubscribes each time, with no new      |
|                                                  | Redis client; its connections stay at most  |
|                                                  | two (pooled, subscribed); typing is relayed |
"""

from __future__ import annotations

import redis.asyncio as redis
from pycrdt import Text

from server.config import Settings
from tests.support.servers import run_server
from tests.support.services import private_redis, run_prefix
from tests.support.yclient import eventually, joined


async def test_reconnects_reuse_one_client(sqlite_url, monkeypatch):
    with private_redis() as private:  # killing connections must not touch anyone else's
        await _reconnects_reuse_one_client(sqlite_url, private.url, monkeypatch)


async def _reconnects_reuse_one_client(sqlite_url: str, redis_url: str, monkeypatch) -> None:
    made: list[str] = []
    from_url = redis.Redis.from_url

    def counting(url: str, *args, **kwargs):
        made.append(url)
        return from_url(url, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "from_url", counting)
    prefix = run_prefix()
    settings = Settings(database_url=sqlite_url, redis_url=redis_url, redis_prefix=prefix)
    admin = from_url(redis_url)
    try:
        async with run_server(settings) as server:
            relay = server.app.state.relay
            await eventually(lambda: relay.connected, timeout=5)
            await admin.client_setname("test-admin")
            for round_ in range(5):
                killed = await admin.execute_command("CLIENT", "KILL", "TYPE", "pubsub")
                assert killed >= 1
                await eventually(lambda r=round_: relay.stats.reconnects > r and relay.connected,
                                 timeout=5)
            assert len(made) == 1, made  # the relay's own client, made once
            doc_id = await server.new_doc()
            a = await joined(server, doc_id)
            a.doc.get("t", type=Text).insert(0, "still relayed")
            await eventually(lambda: relay.stats.published >= 1, timeout=5)
            await a.close()
            # the relay's own: its subscription, and one pooled connection (publish, ping)
            others = [c for c in await admin.client_list() if c.get("name") != "test-admin"]
            assert len(others) <= 2, others
    finally:
        await admin.aclose()
