"""Opening a big document that is only in the database: a fresh client is answered with the
stored bytes at once, the room builds its doc right after, and everything else waits for it."""

from __future__ import annotations

import asyncio

import websockets
from pycrdt import Text, YMessageType, YSyncMessageType

from crdt.room import BUILD_AFTER, EARLY_ANSWER_BYTES
from tests.support.yclient import YClient, eventually, joined

BIG = "".join(chr(97 + i % 26) for i in range(EARLY_ANSWER_BYTES + 40_000))



async def stored_big_doc(server) -> str:
    """A document bigger than EARLY_ANSWER_BYTES, persisted and unloaded from memory."""
    doc_id = await server.new_doc()
    writer = await joined(server, doc_id)
    writer.doc.get("t", type=Text).insert(0, BIG)
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    await writer.close()
    await eventually(lambda: server.rooms.open_room(doc_id) is None, timeout=10)
    return doc_id


def sync_kinds(client: YClient) -> list[int]:
    return [m[1] for m in client.received if m[0] == YMessageType.SYNC]


async def test_fresh_client_gets_the_stored_state_before_the_doc_is_built(server):
    doc_id = await stored_big_doc(server)
    fresh = await joined(server, doc_id)
    assert str(fresh.doc.get("t", type=Text)) == BIG
    # answered from the stored bytes: the reply came before the server's own sync request,
    # which needs the built doc
    assert sync_kinds(fresh)[0] == YSyncMessageType.SYNC_STEP2
    await eventually(lambda: YSyncMessageType.SYNC_STEP1 in sync_kinds(fresh))
    room = server.rooms.open_room(doc_id)
    assert room is not None and str(room.doc.get("t", type=Text)) == BIG
    # and it edits like any other client
    fresh.doc.get("t", type=Text).insert(0, "first: ")
    await eventually(lambda: str(room.doc.get("t", type=Text)).startswith("first: "))
    await fresh.close()


async def test_returning_client_with_offline_edits_merges_both_ways(server):
    doc_id = await server.new_doc()
    a = await joined(server, doc_id)
    a.doc.get("t", type=Text).insert(0, BIG)
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    await a.close()
    a.doc.get("t", type=Text).insert(0, "offline ")  # typed while disconnected
    await eventually(lambda: server.rooms.open_room(doc_id) is None, timeout=10)
    b = await joined(server, doc_id)  # fresh: answered from storage
    b.doc.get("t", type=Text).insert(len(BIG), " end")
    # a has state, so it waits for the built doc and gets only what it lacks
    await a.connect()
    await a.wait_synced()
    expected = "offline " + BIG + " end"
    await eventually(lambda: str(a.doc.get("t", type=Text)) == expected)
    await eventually(lambda: str(b.doc.get("t", type=Text)) == expected)
    await a.close()
    await b.close()
    await eventually(lambda: server.rooms.open_room(doc_id) is None, timeout=10)
    again = await joined(server, doc_id)
    assert str(again.doc.get("t", type=Text)) == expected  # all of it was stored
    await again.close()


async def test_several_fresh_clients_at_once_all_get_everything(server):
    doc_id = await stored_big_doc(server)
    clients = [YClient(server.ws(doc_id)) for _ in range(5)]
    await asyncio.gather(*(c.connect() for c in clients))
    await asyncio.gather(*(c.wait_synced() for c in clients))
    for client in clients:
        assert str(client.doc.get("t", type=Text)) == BIG
    clients[0].doc.get("t", type=Text).insert(0, "seen by all: ")
    for client in clients[1:]:
        await eventually(lambda c=client: str(c.doc.get("t", type=Text)).startswith("seen by all"))
    for client in clients:
        await client.close()


async def test_a_booting_room_builds_its_doc_even_if_nobody_asks(server):
    doc_id = await stored_big_doc(server)
    # a socket that joins and says nothing: no sync request to answer first
    silent = await websockets.connect(server.ws(doc_id), compression=None, max_size=None)
    await eventually(lambda: server.rooms.open_room(doc_id) is not None,
                     timeout=BUILD_AFTER + 2)
    assert str(server.rooms.open_room(doc_id).doc.get("t", type=Text)) == BIG
    await silent.close()


async def test_server_side_changes_wait_for_a_booting_room(server):
    doc_id = await stored_big_doc(server)
    silent = await websockets.connect(server.ws(doc_id), compression=None, max_size=None)
    await eventually(lambda: server.rooms.open_room(doc_id, booting=True) is not None)
    # what REST, restore and import use: it asks for the build now and waits for it
    room = await asyncio.wait_for(server.rooms.get(doc_id), BUILD_AFTER / 2)
    assert room.ready.is_set() and str(room.doc.get("t", type=Text)) == BIG
    await silent.close()
