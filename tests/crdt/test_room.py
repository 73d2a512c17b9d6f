"""Room (crdt/room.py and its parts: receiver.py, commit.py, presence.py) on recording channels
and a memory store: the durability rule, who is sent what, and what each kind of bad input does.

| what happens                                         | what the room does                        |
|------------------------------------------------------|-------------------------------------------|
| a client types while the store is slow                | others see it only once it is committed;  |
|                                                      | the sender is not sent its own update     |
| a newcomer asks for the document meanwhile            | its answer waits for that commit too      |
| a malformed frame                                    | closes that client (1007); the rest go on |
| a viewer's update                                    | refused (permission denied), stays open,  |
|                                                      | the document unchanged                    |
| the store fails a commit                             | every client closed 1013, room failed     |
| another process relays an update                     | everyone gets it; nothing is stored again |
| a client leaves                                      | its presence goes for everyone            |
| the log is compacted (every `compact_every` updates) | keystrokes go on being stored and sent    |
|                                                      | while it merges; nothing is lost          |
"""

from __future__ import annotations

import asyncio

from pycrdt import Awareness, Doc, create_awareness_message

from crdt import protocol
from crdt.connection import Connection
from crdt.origins import RELAY
from crdt.protocol import CloseCode, Kind
from crdt.room import Room
from tests.support.recording import MemoryStore, RecordingChannel, paragraph_text, typed

DOC = "doc-1"


async def _room(store: MemoryStore | None = None) -> tuple[Room, MemoryStore]:
    store = store or MemoryStore()
    room = Room(DOC, store)
    await room.fetch()
    await room.start()
    return room, store


def _join(room: Room, role: str = "editor", name: str = "") -> tuple[RecordingChannel, Connection,
                                                                     asyncio.Task[None]]:
    channel = RecordingChannel()
    conn = Connection(channel, role=role, label=name or role)
    task = asyncio.get_running_loop().create_task(room.serve(conn))
    return channel, conn, task


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def _received(channel: RecordingChannel) -> Doc:
    """What a client holds after applying every update the room sent it."""
    doc: Doc = Doc()
    for frame in channel.frames(Kind.SYNC_STEP2, Kind.SYNC_UPDATE):
        doc.apply_update(frame.payload)
    return doc


async def test_keystrokes_are_stored_and_sent_on_while_a_compaction_merges():
    """A large document's compaction takes a tenth of a second or more: it runs beside the
    commits, not in front of them (it used to hold back every keystroke of the room)."""
    store = MemoryStore()
    room = Room(DOC, store, compact_every=3)
    await room.fetch()
    await room.start()
    ann, _, ann_task = _join(room, name="ann")
    bea, _, bea_task = _join(room, name="bea")
    await _settle()
    store.hold_compactions()
    doc: Doc = Doc()
    for word in ("one ", "two ", "three "):
        ann.put(protocol.update_message(typed(doc, word, at=len(paragraph_text(doc)))))
        await _settle()
    assert store.compacting == 1  # the third update started a compaction, which is held
    ann.put(protocol.update_message(typed(doc, "four", at=len(paragraph_text(doc)))))
    await _settle()
    assert paragraph_text(_received(bea)) == "one two three four"  # sent on meanwhile...
    assert store.text(DOC) == "one two three four"  # ...and stored
    store.release_compactions()
    await _settle()
    assert store.compacting == 0 and store.compactions == 1
    assert len(store.docs[DOC]) == 2  # the snapshot of the first three, then "four"
    assert store.text(DOC) == "one two three four"
    for channel in (ann, bea):
        channel.leave()
    await asyncio.gather(ann_task, bea_task)
    await room.stop()


async def test_others_see_an_update_only_once_it_is_stored_and_the_sender_gets_no_echo():
    room, store = await _room()
    ann, _, ann_task = _join(room, name="ann")
    bea, _, bea_task = _join(room, name="bea")
    await _settle()
    store.hold()
    ann.put(protocol.update_message(typed(Doc(), "Hello")))
    await _settle()
    assert paragraph_text(room.doc) == "Hello"  # applied...
    assert bea.frames(Kind.SYNC_UPDATE) == []  # ...but nobody sees it before it is stored
    assert store.text(DOC) == ""
    store.release()
    await room.drain()
    await _settle()
    assert store.text(DOC) == "Hello"
    assert paragraph_text(_received(bea)) == "Hello"
    assert ann.frames(Kind.SYNC_UPDATE) == []
    for channel in (ann, bea):
        channel.leave()
    await asyncio.gather(ann_task, bea_task)


async def test_a_newcomers_answer_waits_for_the_commit_of_what_it_covers():
    room, store = await _room()
    ann, _, ann_task = _join(room, name="ann")
    await _settle()
    store.hold()
    ann.put(protocol.update_message(typed(Doc(), "Unsaved")))
    await _settle()
    cam, _, cam_task = _join(room, name="cam")
    cam.put(protocol.sync_step1(Doc().get_state()))
    await _settle()
    assert cam.frames(Kind.SYNC_STEP2) == []
    store.release()
    await room.drain()
    await _settle()
    assert paragraph_text(_received(cam)) == "Unsaved"
    ann.leave()
    cam.leave()
    await asyncio.gather(ann_task, cam_task)


async def test_a_malformed_frame_closes_only_its_sender():
    room, store = await _room()
    ann, _, ann_task = _join(room, name="ann")
    bad, _, bad_task = _join(room, name="bad")
    await _settle()
    bad.put(b"\x00\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff")  # an update of no length
    await asyncio.wait_for(bad_task, 2)
    assert bad.closed is not None and bad.closed[0] == CloseCode.INVALID_DATA
    ann.put(protocol.update_message(typed(Doc(), "Still here")))
    await _settle()
    await room.drain()
    assert store.text(DOC) == "Still here" and not room.failed
    ann.leave()
    await ann_task


async def test_a_viewers_update_is_refused_and_the_connection_stays():
    room, store = await _room()
    vic, vic_conn, vic_task = _join(room, role="viewer", name="vic")
    await _settle()
    vic.put(protocol.update_message(typed(Doc(), "Graffiti")))
    await _settle()
    assert paragraph_text(room.doc) == "" and store.text(DOC) == ""
    denied = [m for m in vic.sent if m[0] == 2]
    assert len(denied) == 1  # told once, in words (auth message: permission denied)
    assert vic.closed is None and not vic_conn.closing
    vic.leave()
    await vic_task


async def test_a_failed_commit_closes_everyone_to_resync():
    room, store = await _room()
    ann, _, ann_task = _join(room, name="ann")
    bea, _, bea_task = _join(room, name="bea")
    await _settle()
    store.fail = True
    ann.put(protocol.update_message(typed(Doc(), "Lost?")))
    await asyncio.wait_for(asyncio.gather(ann_task, bea_task), 2)
    assert room.failed
    assert ann.closed is not None and ann.closed[0] == CloseCode.TRY_AGAIN_LATER
    assert bea.closed is not None and bea.closed[0] == CloseCode.TRY_AGAIN_LATER
    assert bea.frames(Kind.SYNC_UPDATE) == []  # never seen: it was never stored


async def test_a_relayed_update_reaches_everyone_and_is_not_stored_again():
    room, store = await _room()
    ann, _, ann_task = _join(room, name="ann")
    await _settle()
    room.apply(typed(Doc(), "From elsewhere"), RELAY)
    await room.drain()
    await _settle()
    assert paragraph_text(_received(ann)) == "From elsewhere"
    assert store.docs.get(DOC, []) == []
    ann.leave()
    await ann_task


async def test_leaving_takes_its_presence_away_for_everyone():
    room, _ = await _room()
    ann, _, ann_task = _join(room, name="ann")
    bea, _, bea_task = _join(room, name="bea")
    await _settle()
    awareness = Awareness(Doc())
    awareness.set_local_state({"user": {"name": "Ann"}})
    ann.put(create_awareness_message(awareness.encode_awareness_update([awareness.client_id])))
    await _settle()
    assert awareness.client_id in room.awareness.states
    ann.leave()
    await ann_task
    await _settle()
    assert awareness.client_id not in room.awareness.states
    last = bea.frames(Kind.AWARENESS)[-1]
    assert [entry[2] for entry in protocol.read_awareness(last.payload, None)[0]] == [None]
    bea.leave()
    await bea_task


async def test_a_stored_snapshot_is_read_once_when_the_room_opens(monkeypatch):
    """Screening the stored state and placing it in the gate used to read it twice (the
    biggest cost of opening a big document, after pycrdt's own build)."""
    from crdt import update_format

    reads = []
    real = update_format._Reader.update

    def counted(reader):
        reads.append(len(reader.data))
        return real(reader)

    store = MemoryStore()
    store.docs[DOC] = [typed(Doc(), "a snapshot of the plan")]
    monkeypatch.setattr(update_format._Reader, "update", counted)
    room, _ = await _room(store)
    assert paragraph_text(room.doc) == "a snapshot of the plan"
    assert reads == [len(store.docs[DOC][0])]
    channel, _, task = _join(room)
    doc = Doc()
    channel.put(protocol.sync_step1(doc.get_state()))
    await _settle()
    assert paragraph_text(_received(channel)) == "a snapshot of the plan"
    channel.leave()
    await task
