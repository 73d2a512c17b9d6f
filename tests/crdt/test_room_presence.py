"""Presence limits in a room of browser-like clients, in memory (crdt/room.py, crdt/limits.py).

A y-websocket provider sends its own state on every change, sends back every change it
receives (same clock), later sends removals of the states it stopped hearing from, and forwards
what its other tabs tell it over BroadcastChannel. None of that may ever hit a limit; sending
back more than it was sent, or cycling client ids, does.

| what the clients do                                         | what the room does               |
|-------------------------------------------------------------|----------------------------------|
| 120 join one by one, each echoing everything it receives    | nobody closed, all see all       |
| everyone moves, renews, times 30 others out, forwards a tab | nobody closed, nothing dropped   |
| one sends back far more than it was ever sent               | closes it 1008                   |
| one takes on more client ids than allowed                   | closes it 1008                   |
| one sends faster than the presence rate                     | drops the excess, keeps it open  |
"""

from __future__ import annotations

import asyncio

from pycrdt import Awareness, Decoder, Doc, create_awareness_message

from crdt import protocol
from crdt.connection import Connection
from crdt.limits import PresenceLimits
from crdt.ports import ChannelClosed
from crdt.room import Room


class MemoryStore:
    """An empty document that stores nothing (this is about presence only)."""

    async def load(self, doc_id: str) -> list[bytes]:
        return []

    async def append(self, doc_id: str, updates: list[bytes]) -> None:
        pass

    def append_now(self, doc_id: str, updates: list[bytes]) -> bool:
        return True

    async def compact(self, doc_id: str, merge) -> None:
        pass


class Browser:
    """A y-websocket provider's presence behaviour, as the Channel of one connection."""

    def __init__(self, room: Room, name: str, limits: PresenceLimits) -> None:
        self.room = room
        self.awareness = Awareness(Doc())
        self.awareness.set_local_state(None)
        self.client_id = self.awareness.client_id
        self.name = name
        self.outbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.closed: tuple[int, str] | None = None
        self.tabs: list[Browser] = []  # its other tabs of the document (BroadcastChannel)
        self.awareness.observe(self._on_update)
        self.conn = Connection(self, limits=limits, label=name)
        self.task = asyncio.get_running_loop().create_task(room.serve(self.conn))

    def move(self, cursor: int) -> None:
        self.awareness.set_local_state({"user": {"name": self.name, "color": "#aa3300"},
                                        "cursor": {"anchor": cursor, "head": cursor}})

    def time_out(self, client_ids: list[int]) -> None:
        """y-protocols drops the states it did not hear from for 30 s, and says so."""
        self.awareness.remove_awareness_states(client_ids, "timeout")

    def _on_update(self, topic: str, payload) -> None:
        if topic != "update":
            return
        changes, origin = payload
        ids = [*changes["added"], *changes["updated"], *changes["removed"]]
        entries = protocol.awareness_entries(self.awareness, ids)
        message = create_awareness_message(protocol.encode_awareness_update(entries))
        self.outbox.put_nowait(message)
        if origin != "tab":
            for tab in self.tabs:
                tab.awareness.apply_awareness_update(Decoder(message[1:]).read_message(), "tab")

    # ---- Channel ----------------------------------------------------------------------------

    async def recv(self) -> bytes:
        message = await self.outbox.get()
        if message is None:
            raise ChannelClosed
        return message

    def send_nowait(self, message: bytes) -> bool:
        if message[0] == 1:
            self.awareness.apply_awareness_update(Decoder(message[1:]).read_message(), "server")
        return True

    async def send(self, message: bytes) -> None:
        self.send_nowait(message)

    def deliver_to(self, callback, read=None) -> bool:
        return False

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)

    async def drained(self) -> None:
        pass

    def abort(self) -> bool:
        return False

    async def leave(self) -> None:
        self.outbox.put_nowait(None)
        await self.task


async def settle(rounds: int = 20) -> None:
    for _ in range(rounds):
        await asyncio.sleep(0)


async def open_room() -> Room:
    room = Room("doc", MemoryStore())
    await room.fetch()
    await room.start()
    return room


async def test_browsers_echoing_everything_never_hit_a_limit():
    limits = PresenceLimits()
    room = await open_room()
    browsers: list[Browser] = []
    for i in range(120):
        browser = Browser(room, f"user {i}", limits)
        await settle(3)
        browser.move(i)
        browsers.append(browser)
        await settle(3)
    await settle()
    assert all(b.closed is None and not b.conn.closing for b in browsers)
    everyone = {b.client_id for b in browsers}
    assert all(set(b.awareness.states) == everyone for b in browsers)

    # a second tab of the first browser: its state reaches the room through the first tab
    first = browsers[0]
    tab = Browser(room, "user 0 (tab 2)", limits)
    first.tabs.append(tab)
    tab.tabs.append(first)
    tab.move(1)  # over BroadcastChannel, forwarded by the first tab, and through its own socket
    browsers.append(tab)
    await settle()
    for round_ in range(3):
        for i, browser in enumerate(browsers):
            browser.move(1000 * round_ + i)
        await settle()
        for browser in browsers[:40]:
            # hidden tabs renew rarely: browsers time them out, over and over
            browser.time_out([b.client_id for b in browsers[-30:] if b is not browser])
        await settle()
    assert [b.name for b in browsers if b.closed is not None or b.conn.closing] == []
    assert room.stats.awareness_dropped == 0
    assert tab.client_id in room.awareness.states

    # one sends back, again and again, what it was sent once
    echo = create_awareness_message(protocol.encode_awareness_update(
        protocol.awareness_entries(room.awareness, sorted(room.awareness.states))))
    greedy = browsers[5]
    for _ in range(10):
        greedy.outbox.put_nowait(echo)
    await settle()
    assert greedy.closed is not None and greedy.closed[0] == 1008
    assert all(b.closed is None for b in browsers if b is not greedy)

    for browser in browsers:
        await browser.leave()
    await room.stop()


async def test_cycling_client_ids_is_closed_and_a_flood_is_dropped():
    limits = PresenceLimits(ids_per_connection=4, per_second=1.0, burst=10)
    room = await open_room()
    watcher = Browser(room, "watcher", limits)
    cycler = Browser(room, "cycler", limits)
    await settle()
    for client_id in range(1000, 1010):  # each one set, then removed: it holds one at a time
        for state in ({"user": {"name": "x"}}, None):
            cycler.outbox.put_nowait(create_awareness_message(
                protocol.encode_awareness_update([(client_id, 1, state)])))
    await settle()
    assert cycler.closed is not None and cycler.closed[0] == 1008
    assert len([cid for cid in room.awareness.meta if 1000 <= cid < 1010]) == 4

    flooder = Browser(room, "flooder", limits)
    await settle()
    for cursor in range(200):
        flooder.move(cursor)
    await settle(50)
    assert flooder.closed is None  # dropped, not closed: the next state repairs a lost one
    assert room.stats.awareness_dropped >= 180
    assert watcher.awareness.states[flooder.client_id]["cursor"]["head"] < 20
    for browser in (watcher, cycler, flooder):
        await browser.leave()
    await room.stop()
