"""Rooms (crdt/rooms.py), the registry, and Connection (crdt/connection.py), on recording
channels and a memory store.

| what happens                                        | what happens next                        |
|-----------------------------------------------------|------------------------------------------|
| ten clients open one document at once               | it is loaded once; all share one room    |
| the last client leaves                              | after the grace period the room persists,|
|                                                     | compacts and unloads; a newcomer loads it|
|                                                     | fresh from the store                     |
| the server shuts down                               | clients closed 1001, everything stored   |
| the document is deleted                             | clients closed with the given code       |
| a client stops reading                              | its backlog past the limit closes it     |
|                                                     | (1013) without holding up the room       |
| a client sends updates faster than its rate         | the token bucket says no                 |
| the caller read the stored state ahead (`Preloaded`)| the room is built from it, no second read|
| ... but a room of it came and went since            | that read is dropped: the room reads the |
|                                                     | store (and has what was typed meanwhile) |
"""

from __future__ import annotations

import asyncio

from pycrdt import Doc

from crdt import protocol
from crdt.connection import Connection
from crdt.protocol import CloseCode
from crdt.rooms import Preloaded, Rooms
from tests.support.recording import MemoryStore, RecordingChannel, paragraph_text, typed


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_many_joining_at_once_share_one_load():
    store = MemoryStore()
    rooms = Rooms(store, unload_after=60)
    channels = [RecordingChannel() for _ in range(10)]
    tasks = [asyncio.create_task(rooms.join("d", channel)) for channel in channels]
    await _settle()
    await asyncio.sleep(0.05)
    assert store.loads == 1
    room = rooms.open_room("d")
    assert room is not None and len(room.connections) == 10
    for channel in channels:
        channel.leave()
    await asyncio.gather(*tasks)
    await rooms.aclose()


async def test_the_room_unloads_after_the_last_leaves_and_loads_fresh_after():
    store = MemoryStore()
    rooms = Rooms(store, unload_after=0.05)
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann))
    await _settle()
    doc = Doc()
    ann.put(protocol.update_message(typed(doc, "one ")))
    ann.put(protocol.update_message(typed(doc, "two", at=4)))
    await _settle()
    first = rooms.open_room("d")
    ann.leave()
    await task
    await asyncio.sleep(0.2)
    assert rooms.open_room("d") is None and len(rooms) == 0
    assert store.compactions == 1 and len(store.docs["d"]) == 1
    assert store.text("d") == "one two"
    bea = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", bea))
    await _settle()
    second = rooms.open_room("d")
    assert second is not None and second is not first and store.loads == 2
    bea.leave()
    await task
    await rooms.aclose()


async def test_a_state_read_ahead_of_join_is_used_and_not_read_again():
    store = MemoryStore()
    store.docs["d"] = [typed(Doc(), "stored")]
    rooms = Rooms(store, unload_after=60)
    ticket = rooms.preload_ticket("d")
    assert ticket is not None
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann, preloaded=Preloaded(ticket, list(store.docs["d"]))))
    await _settle()
    room = rooms.open_room("d")
    assert room is not None and store.loads == 0
    assert paragraph_text(room.doc) == "stored"
    assert rooms.preload_ticket("d") is None  # open: joining it reads nothing
    ann.leave()
    await task
    await rooms.aclose()


async def test_a_state_read_before_a_room_came_and_went_is_not_used():
    store = MemoryStore()
    rooms = Rooms(store, unload_after=0.01)
    ticket = rooms.preload_ticket("d")
    assert ticket is not None
    stale = Preloaded(ticket, list(store.docs.get("d", [])))  # read: nothing stored yet
    # meanwhile someone opens the document, types and leaves; the room unloads
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann))
    await _settle()
    ann.put(protocol.update_message(typed(Doc(), "typed meanwhile")))
    await _settle()
    ann.leave()
    await task
    await asyncio.sleep(0.1)
    assert rooms.open_room("d") is None and store.text("d") == "typed meanwhile"
    bea = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", bea, preloaded=stale))
    await _settle()
    room = rooms.open_room("d")
    assert room is not None and paragraph_text(room.doc) == "typed meanwhile"
    bea.leave()
    await task
    await rooms.aclose()


async def test_shutting_down_stores_everything_and_closes_clients_going_away():
    store = MemoryStore()
    rooms = Rooms(store, unload_after=60)
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann))
    await _settle()
    store.hold()  # the last keystroke is still being committed when the server stops
    ann.put(protocol.update_message(typed(Doc(), "last words")))
    await _settle()
    closing = asyncio.create_task(rooms.aclose())
    await _settle()
    store.release()
    await closing
    await task
    assert store.text("d") == "last words"
    assert ann.closed is not None and ann.closed[0] == CloseCode.GOING_AWAY


async def test_a_deleted_documents_clients_are_closed_with_the_code_given():
    store = MemoryStore()
    rooms = Rooms(store, unload_after=60)
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann))
    await _settle()
    await rooms.discard("d", CloseCode.GONE, "the document was deleted")
    await asyncio.wait_for(task, 2)
    assert ann.closed == (CloseCode.GONE, "the document was deleted")
    assert rooms.open_room("d") is None
    await rooms.aclose()


async def test_a_client_that_stops_reading_is_cut_off_past_its_backlog():
    channel = RecordingChannel()
    channel.blocked = asyncio.Event()  # it reads nothing
    conn = Connection(channel, max_backlog=1000)
    for _ in range(5):
        conn.send(b"\x00" * 150)
    assert not conn.closing  # 750 bytes waiting: still within its backlog
    conn.send(b"\x00" * 400)
    assert conn.closing and channel.aborted  # dropped at once, no handshake to wait for
    assert channel.sent == []


async def test_frames_keep_their_order_through_the_outbox():
    channel = RecordingChannel(nowait=False)  # every frame goes through the writer task
    conn = Connection(channel)
    for n in range(20):
        conn.send(bytes([n]))
    await conn.finish()
    assert channel.sent == [bytes([n]) for n in range(20)]
    assert channel.closed == (CloseCode.NORMAL, "")


async def test_updates_beyond_the_rate_are_refused_by_the_bucket():
    conn = Connection(RecordingChannel(), updates_per_second=1, update_burst=3)
    assert [conn.take_update_token() for _ in range(5)] == [True, True, True, False, False]


async def test_a_state_read_ahead_is_let_go_once_the_room_is_built():
    """The client's join lives as long as the client: it must not keep the stored bytes the
    room was built from (for a big document, a second copy for hours)."""
    import weakref

    store = MemoryStore()
    store.docs["d"] = [typed(Doc(), "stored")]
    rooms = Rooms(store, unload_after=60)
    ticket = rooms.preload_ticket("d")
    assert ticket is not None
    read_ahead = Preloaded(ticket, list(store.docs["d"]))
    kept = weakref.ref(read_ahead)
    ann = RecordingChannel()
    task = asyncio.create_task(rooms.join("d", ann, preloaded=read_ahead))
    del read_ahead
    await _settle()
    room = rooms.open_room("d")
    assert room is not None and paragraph_text(room.doc) == "stored" and store.loads == 0
    assert kept() is None
    ann.leave()
    await task
    await rooms.aclose()
