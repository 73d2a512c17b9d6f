"""Limits: document size, per-connection update rate, connections per client address.

| what                                    | what happens                                        |
|-----------------------------------------|-----------------------------------------------------|
| an update that would grow the document past QUIRE_MAX_DOCUMENT_BYTES | refused; that connection closes 4413 with a message; the document keeps what it had |
| more updates than the rate allows       | the connection closes 1008 (the client reconnects and resyncs)        |
| more connections from one address       | the new one closes 1013 (retry later); the others stay             |
"""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Text

from server.config import Settings
from tests.support.servers import run_server
from tests.support.yclient import YClient, eventually, joined


@pytest.fixture
async def tight(sqlite_url):
    settings = Settings(database_url=sqlite_url, max_document_bytes=20_000,
                        updates_per_second=5, update_burst=20, max_connections_per_address=3)
    async with run_server(settings) as live:
        yield live



async def test_document_size_limit(tight):
    doc_id = await tight.new_doc()
    client = await joined(tight, doc_id)
    text = client.doc.get("t", type=Text)
    text.insert(0, "kept ")
    await eventually(lambda: tight.rooms.stats.updates_persisted >= 1)
    text.insert(len(text), "x" * 30_000)
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.close_code == 4413 and "size limit" in client.close_reason
    other = await joined(tight, doc_id)
    assert str(other.doc.get("t", type=Text)) == "kept "
    await other.close()


async def test_update_rate_limit(tight):
    doc_id = await tight.new_doc()
    calm = await joined(tight, doc_id)
    flood = await joined(tight, doc_id)
    text = flood.doc.get("t", type=Text)
    for _ in range(60):  # far past the burst of 20, far faster than 5/s
        text.insert(0, "f")
        await asyncio.sleep(0)
    await asyncio.wait_for(flood.closed.wait(), 5)
    assert flood.close_code == 1008 and "too many updates" in flood.close_reason
    assert not calm.closed.is_set()
    calm.doc.get("t", type=Text).insert(0, "still fine ")
    await eventually(lambda: "still fine" in str(tight.rooms.open_room(doc_id).doc.get(
        "t", type=Text)))
    await calm.close()


async def test_connections_per_address(tight):
    doc_id = await tight.new_doc()
    clients = [await joined(tight, doc_id) for _ in range(3)]
    extra = YClient(tight.ws(doc_id))
    await extra.connect()
    await asyncio.wait_for(extra.closed.wait(), 5)
    assert extra.close_code == 1013 and "too many connections" in extra.close_reason
    assert not any(c.closed.is_set() for c in clients)
    await clients[0].close()
    await eventually(lambda: tight.app.state.connections_by_address.get("127.0.0.1") == 2)
    again = await joined(tight, doc_id)
    assert not again.closed.is_set()
    for client in clients[1:] + [again]:
        await client.close()
