"""The keystroke path: a frame is handled as soon as it is read (the server's ON_MESSAGE
delivery), and on SQLite committed and broadcast before its handler returns when nothing can
make the commit wait. What a user relies on:

| what happens                                          | what every client sees                  |
|-------------------------------------------------------|-----------------------------------------|
| a burst of updates arrives in one read                | all of them, in order, stored and sent as one |
| a bad frame arrives right behind good ones            | the good ones; the sender is closed 1007 |
| a text frame arrives in the middle of a burst         | what came before it only; closed 1003   |
| another process holds the database's write lock       | nothing until it is stored, then all, in order |
"""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from pycrdt import Doc, Text, create_update_message

from crdt import protocol
from crdt.connection import Connection
from crdt.room import Room
from server.config import Settings
from storage import documents, updates
from storage.db import make_engine
from storage.store import SqlStore
from tests.support.servers import run_server
from tests.support.yclient import YClient, eventually, joined


def typed_frames(text: str) -> list[bytes]:
    """One update frame per character typed, as an editor would send them."""
    doc = Doc()
    frames: list[bytes] = []
    doc.observe(lambda event: frames.append(create_update_message(event.update)))
    t = doc.get("t", type=Text)
    for ch in text:
        t += ch
    return frames


def stored_text(engine, doc_id: str) -> str:
    doc = Doc()
    for update in updates.load_updates(engine, doc_id=doc_id).updates:
        doc.apply_update(update)
    return str(doc.get("t", type=Text))


def write_at_once(client: YClient, frames: list[bytes | str]) -> None:
    """Write every frame in one go, so the server reads them together."""
    sansio = client.ws.protocol
    for frame in frames:
        if isinstance(frame, str):
            sansio.send_text(frame.encode())
        else:
            sansio.send_binary(frame)
    client.ws.transport.write(b"".join(sansio.data_to_send()))



async def test_a_burst_read_at_once_reaches_everyone_in_order_and_is_stored(server):
    doc_id = await server.new_doc()
    writer = await joined(server, doc_id)
    observer = await joined(server, doc_id)
    text = "the quick brown fox jumps over the lazy dog " * 3
    before = len(observer.received)
    write_at_once(writer, typed_frames(text))
    observed = observer.doc.get("t", type=Text)
    await eventually(lambda: str(observed) == text)
    assert stored_text(server.engine, doc_id) == text
    # what arrived together was stored in one commit and sent on as one merged update, not as
    # one message per keystroke (the socket may split the burst into a few reads)
    updates_seen = [m for m in observer.received[before:] if m[:2] == b"\x00\x02"]
    assert 1 <= len(updates_seen) < 10, len(updates_seen)
    assert not writer.closed.is_set() and not observer.closed.is_set()
    for client in (writer, observer):
        await client.close()


@pytest.mark.parametrize("bad, code", [
    (b"\x00\x02\xff\xff", 1007),  # a truncated length prefix
    ("hello", 1003),  # a text frame
])
async def test_frames_behind_a_bad_one_are_not_applied(server, bad, code):
    doc_id = await server.new_doc()
    sender = await joined(server, doc_id)
    observer = await joined(server, doc_id)
    frames = typed_frames("before|after")
    cut = len("before|")
    write_at_once(sender, [*frames[:cut], bad, *frames[cut:]])
    await asyncio.wait_for(sender.closed.wait(), 5)
    assert sender.close_code == code, sender.close_reason
    observed = observer.doc.get("t", type=Text)
    await eventually(lambda: str(observed) == "before|")
    await asyncio.sleep(0.2)  # nothing behind the bad frame trickles in later
    assert str(observed) == "before|"
    assert stored_text(server.engine, doc_id) == "before|"
    # the room and the other client are unharmed
    assert not observer.closed.is_set()
    late = await joined(server, doc_id)
    assert str(late.doc.get("t", type=Text)) == "before|"
    for client in (observer, late):
        await client.close()


async def test_keystrokes_under_another_writers_lock_wait_then_arrive_in_order(tmp_path):
    path = tmp_path / "quire.db"
    async with run_server(Settings(database_url=f"sqlite:///{path}")) as server:
        doc_id = await server.new_doc()
        writer = await joined(server, doc_id)
        observer = await joined(server, doc_id)
        typed = writer.doc.get("t", type=Text)
        observed = observer.doc.get("t", type=Text)
        typed += "a"
        await eventually(lambda: str(observed) == "a")

        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process is writing
        for ch in "bcd":
            typed += ch
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.3)
        assert str(observed) == "a"  # nobody sees what is not stored yet
        blocker.execute("COMMIT")
        blocker.close()
        await eventually(lambda: str(observed) == "abcd")
        typed += "e"  # and once the lock is gone, keystrokes commit at once again
        await eventually(lambda: str(observed) == "abcde")
        assert stored_text(server.engine, doc_id) == "abcde"
        for client in (writer, observer):
            await client.close()


class Recorder:
    """A channel that records what the room writes to it."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.closed = False

    def send_nowait(self, message: bytes) -> bool:
        self.sent.append(message)
        return True

    async def send(self, message: bytes) -> None:
        self.sent.append(message)

    async def recv(self) -> bytes:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    def deliver_to(self, callback, read=None) -> bool:
        return False

    async def close(self, code: int, reason: str) -> None:
        self.closed = True

    async def drained(self) -> None:
        pass

    def abort(self) -> bool:
        return False


async def test_a_keystroke_is_stored_and_sent_before_its_frame_is_done(sqlite_url):
    engine = make_engine(sqlite_url)
    doc = documents.create_document(engine, title="t")
    async with SqlStore(engine) as store:
        room = Room(doc.id, store)
        await room.fetch()
        await room.start()
        writer, reader = Connection(Recorder()), Connection(Recorder())
        room.connections.update((writer, reader))
        frame = typed_frames("x")[0]
        room.handle(writer, frame)  # no await: nothing else runs meanwhile
        # another engine (another process) already reads it, and the reader was sent it
        assert stored_text(make_engine(sqlite_url), doc.id) == "x"
        assert reader.channel.sent == [frame]
        assert writer.channel.sent == []  # the sender is not echoed its own update
        assert protocol.parse_frame(reader.channel.sent[0]).kind is protocol.Kind.SYNC_UPDATE
        await room.stop()
