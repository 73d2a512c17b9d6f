"""When automatic versions (server/versions.py) fall due, with many documents edited at once.

| what happens                                          | what the version keeper does           |
|-------------------------------------------------------|----------------------------------------|
| 3,000 documents change one after another              | sleeps on: at most two wakes for all   |
|                                                       | of them (each wake once scanned every  |
|                                                       | document with changes)                 |
| they fall quiet                                       | one version each, in the order edited  |
| a document edited only by another process, then here  | due at this process's own pause, not   |
|                                                       | the longer wait for relayed edits      |
| a document edited again before its pause ends         | waits for the new pause                |
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from crdt.origins import RELAY, SERVER
from server import versions as versions_module
from server.versions import VersionKeeper
from tests.support.schedules import count_wakes, until


@dataclass(eq=False)
class _Room:  # what the keeper reads of a room while it waits
    doc_id: str
    failed: bool = False
    closing: bool = False


def _keeper(monkeypatch, *, quiet: float, max_interval: float):
    keeper = VersionKeeper(engine=None, rooms=None, quiet=quiet,  # type: ignore[arg-type]
                           max_interval=max_interval)
    taken: list[tuple[str, float]] = []

    async def auto(doc_id, changes) -> None:  # the version it would cut, recorded
        del keeper._changes[doc_id]
        taken.append((doc_id, time.monotonic()))

    monkeypatch.setattr(keeper, "_auto", auto)
    monkeypatch.setattr(versions_module, "_relayed_authors", lambda room, update: [])
    wakes = count_wakes(monkeypatch, versions_module)
    return keeper, taken, wakes


async def test_a_crowd_of_edited_documents_wakes_the_keeper_once(monkeypatch):
    # quiet for longer than the crowd takes to arrive even on a slow machine (with 0.3 s, a CI
    # run saw the first documents fall due while the last were still arriving: 3 wakes)
    keeper, taken, wakes = _keeper(monkeypatch, quiet=1.5, max_interval=5.0)
    task = asyncio.create_task(keeper.run())
    try:
        await asyncio.sleep(0)
        rooms = [_Room(f"doc-{n}") for n in range(3000)]
        for n, room in enumerate(rooms):
            keeper._changed(room, SERVER)  # what the room's update observer calls
            if n % 50 == 0:
                await asyncio.sleep(0)
        assert len(wakes) <= 2, f"{len(wakes)} wakes for 3,000 documents"
        await until(lambda: len(taken) == len(rooms))
        assert [doc_id for doc_id, _ in taken] == [room.doc_id for room in rooms]
    finally:
        task.cancel()
        keeper.cpu.shutdown()


async def test_local_edits_after_relayed_ones_and_a_longer_pause(monkeypatch):
    keeper, taken, _ = _keeper(monkeypatch, quiet=0.5, max_interval=5.0)
    task = asyncio.create_task(keeper.run())
    try:
        start = time.monotonic()
        relayed, edited = _Room("relayed-then-local"), _Room("edited-again")
        keeper._changed(relayed, RELAY)  # due after 1 s: the other process versions it
        keeper._changed(edited, SERVER)
        await asyncio.sleep(0.15)
        keeper._changed(relayed, SERVER)  # now ours too: due at our own pause, at 0.65 s
        keeper._changed(edited, SERVER)  # edited again: its pause starts over
        await until(lambda: len(taken) == 2)
        when = {doc_id: at - start for doc_id, at in taken}
        assert 0.6 <= when["relayed-then-local"] < 0.95, when
        assert 0.6 <= when["edited-again"] < 0.95, when
    finally:
        task.cancel()
        keeper.cpu.shutdown()
