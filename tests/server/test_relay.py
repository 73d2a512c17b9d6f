"""Several server processes share documents through Redis (real Redis, shared database)."""

from __future__ import annotations

import asyncio
import contextlib
import random

import pytest
from pycrdt import Doc, Text

from server.config import Settings
from storage.db import make_engine
from storage.updates import load_updates
from tests.support.servers import QuireProcess, run_server
from tests.support.services import private_redis, require_redis, run_prefix
from tests.support.yclient import YClient, eventually, joined

METRICS_TOKEN = "metrics-test-token"
METRICS_HEADERS = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@contextlib.asynccontextmanager
async def cluster(db_url: str, redis_url: str, n: int, prefix: str | None = None):
    prefix = prefix or run_prefix()
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for _ in range(n):
            settings = Settings(database_url=db_url, redis_url=redis_url, redis_prefix=prefix,
                                unload_after=0.3, metrics_token=METRICS_TOKEN)
            servers.append(await stack.enter_async_context(run_server(settings)))
        for server in servers:
            await eventually(lambda s=server: s.app.state.relay.connected, timeout=5)
        yield servers



def text_of(client: YClient) -> str:
    return str(client.doc.get("t", type=Text))


def stored_text(db_url: str, doc_id: str) -> str:
    engine = make_engine(db_url)
    doc = Doc()
    for update in load_updates(engine, doc_id=doc_id).updates:
        doc.apply_update(update)
    engine.dispose()
    return str(doc.get("t", type=Text))


async def test_two_processes_converge_and_share_awareness(db_url, redis_url):
    async with cluster(db_url, redis_url, 2) as (one, two):
        doc_id = await one.new_doc()
        a = await joined(one, doc_id)
        b = await joined(two, doc_id)
        a.doc.get("t", type=Text).insert(0, "from one ")
        await eventually(lambda: text_of(b) == "from one ")
        b.doc.get("t", type=Text).insert(len(text_of(b)), "and two")
        await eventually(lambda: text_of(a) == "from one and two")
        await a.set_user({"user": {"name": "Ada", "color": "#aa3300"}})
        await eventually(lambda: b.awareness.states.get(a.doc.client_id, {}).get("user", {})
                         .get("name") == one.username.title())  # the account's name
        # leaving removes the cursor on the other process too
        await a.close()
        await eventually(lambda: a.doc.client_id not in b.awareness.states)
        # relayed updates are not stored twice: one log row per edit, and one per client's
        # first edit, where its process records whose that Yjs client id is (crdt/authors.py)
        assert one.rooms.stats.updates_persisted + two.rooms.stats.updates_persisted == 2 + 2
        async with two.client() as http:
            health = (await http.get("/healthz")).json()
            metrics = (await http.get("/metrics", headers=METRICS_HEADERS)).text
        assert health["redis"] == "ok"
        assert "quire_relay_received_total" in metrics and "quire_relay_lag_seconds" in metrics
        await b.close()


async def test_random_placement_with_disconnects_converges(pg_database, redis_url):
    db_url = pg_database
    rng = random.Random(9)
    async with cluster(db_url, redis_url, 3) as servers:
        doc_id = await servers[0].new_doc()
        docs = [Doc() for _ in range(6)]
        clients = [await joined(rng.choice(servers), doc_id, doc) for doc in docs]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while loop.time() < deadline:
            i = rng.randrange(len(clients))
            text = docs[i].get("t", type=Text)
            if len(text) > 5 and rng.random() < 0.3:
                start = rng.randrange(len(text) - 2)
                del text[start : start + 2]
            else:
                text.insert(rng.randint(0, len(text)), rng.choice("abcdefgh "))
            if rng.random() < 0.05:  # drop and re-place this client on a random process
                await clients[i].close()
                clients[i] = await joined(rng.choice(servers), doc_id, docs[i])
            await asyncio.sleep(0.01)
        await eventually(lambda: len({str(d.get("t", type=Text)) for d in docs}) == 1,
                         timeout=10)
        final = str(docs[0].get("t", type=Text))
        for server in servers:
            room = server.rooms.open_room(doc_id)
            if room is not None:
                await eventually(lambda r=room: str(r.doc.get("t", type=Text)) == final)
        for client in clients:
            await client.close()
        await asyncio.sleep(0.2)
        assert stored_text(db_url, doc_id) == final


async def test_redis_restart_mid_edit_loses_nothing(sqlite_url):
    with private_redis() as redis:
        async with cluster(sqlite_url, redis.url, 2) as (one, two):
            doc_id = await one.new_doc()
            a = await joined(one, doc_id)
            b = await joined(two, doc_id)
            ta = a.doc.get("t", type=Text)
            ta.insert(0, "before ")
            await eventually(lambda: text_of(b) == "before ")
            redis.stop()
            ta.insert(len(ta), "during ")  # stored, but Redis cannot carry it
            await asyncio.sleep(0.3)
            redis.start()
            for server in (one, two):
                await eventually(lambda s=server: s.app.state.relay.connected, timeout=10)
            ta.insert(len(ta), "after")
            await eventually(lambda: text_of(b) == "before during after", timeout=10)
            assert two.app.state.relay.stats.catchups >= 1
            await a.close()
            await b.close()


async def test_kill_one_process_mid_edit_loses_nothing(pg_database, redis_url, tmp_path):
    env = {"QUIRE_REDIS_URL": redis_url, "QUIRE_REDIS_PREFIX": run_prefix(),
           "QUIRE_UNLOAD_AFTER": "0.3"}
    procs = [QuireProcess(tmp_path / name, auth=False, database_url=pg_database, env=env)
             for name in ("one", "two")]
    try:
        for proc in procs:
            await proc.astart()
        one, two = procs
        doc_id = await one.anew_doc()
        a = await joined(one, doc_id)
        b = await joined(two, doc_id)
        ta = a.doc.get("t", type=Text)
        tb = b.doc.get("t", type=Text)
        typed = 0
        for i in range(60):
            ta.insert(len(ta), "a")
            tb.insert(0, "b")
            typed += 2
            if i == 30:
                await one.akill()  # mid-stream: no shutdown code runs
                await asyncio.wait_for(a.closed.wait(), 5)
                a = await joined(two, doc_id, doc=a.doc)  # reconnects to any process
            await asyncio.sleep(0.01)
        await eventually(lambda: str(ta) == str(tb) and len(str(ta)) == typed, timeout=10)
        assert str(ta).count("a") == 60 and str(ta).count("b") == 60
        await a.close()
        await b.close()
        await asyncio.sleep(0.5)
        assert stored_text(pg_database, doc_id) == str(tb)
    finally:
        for proc in procs:
            proc.stop()
