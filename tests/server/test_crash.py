"""Crash safety of a real `quire serve` process: SIGKILL mid-stream and SIGTERM with clients on.

The durability rule under test: an update is committed to the store before any other client can
see it. So whatever an observing client received before the server died must be in the database
when the server comes back, and a graceful shutdown (SIGTERM) loses nothing it had accepted.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from pycrdt import Doc, Text

from tests.support.servers import QuireProcess
from tests.support.yclient import YClient, decode_state_vector, eventually

pytestmark = pytest.mark.timeout(60)


async def connect(url: str, doc: Doc | None = None) -> YClient:
    client = YClient(url, doc)
    await client.connect()
    await client.wait_synced()
    return client


def update_frames(client: YClient) -> int:
    """How many sync-update frames (type 0/2) the client has received."""
    return sum(1 for m in client.received if len(m) > 1 and m[0] == 0 and m[1] == 2)


def missing(have: dict[int, int], need: dict[int, int]) -> dict[int, tuple[int, int]]:
    """client id -> (have, need) for every client whose clock in `have` is below `need`."""
    return {c: (have.get(c, 0), n) for c, n in need.items() if have.get(c, 0) < n}


class Writer:
    """Appends one small chunk per tick (~80 a second, under the server's per-connection rate
    limit) to its own Text until stopped. It keeps going while the server is down (the edits stay
    in its doc; sends fail silently) and pushes them on reconnect."""

    def __init__(self, client: YClient, name: str = "t", interval: float = 0.012) -> None:
        self.client = client
        self.name = name
        self.text = client.doc.get(name, type=Text)
        self.interval = interval
        self.count = 0
        self._stop = asyncio.Event()
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while not self._stop.is_set():
            self.text += f"{self.count},"
            self.count += 1
            await asyncio.sleep(self.interval)

    def expected(self) -> str:
        return "".join(f"{i}," for i in range(self.count))

    async def stop(self) -> None:
        self._stop.set()
        await self.task


class KillSwitch(list):
    """The observer's `received` list: once armed, the frame that arrives next SIGKILLs the
    server the moment it is read off the socket — when, were the server to broadcast before
    committing, that update's commit would most likely still be in flight."""

    def __init__(self, proc: QuireProcess) -> None:
        super().__init__()
        self.proc = proc
        self.armed = False
        self.fired = asyncio.Event()

    def append(self, message: bytes) -> None:
        super().append(message)
        if self.armed and len(message) > 1 and message[0] == 0 and message[1] == 2:
            self.armed = False
            self.proc.signal(signal.SIGKILL)
            self.fired.set()


async def reconnect(client: YClient) -> None:
    await client.close()
    await client.connect()
    await client.wait_synced()


KILL_CYCLES = 2
WRITERS = 6


async def test_sigkill_mid_stream_loses_nothing_anyone_saw(tmp_path: Path, record_property):
    """Six writers stream small edits (each to its own Text, so "seen" must be a prefix of
    "stored"); an observer watches. SIGKILL the server mid-stream, restart it on the same port
    and database, and check that everything the observer had received is stored. Two cycles;
    the writers keep typing through the outage and resync on reconnect."""
    proc = QuireProcess(tmp_path, auth=False)
    clients: list[YClient] = []
    writers: list[Writer] = []
    try:
        await proc.astart()
        doc_id = await proc.anew_doc("crash")
        writer_clients = [await connect(proc.ws(doc_id)) for _ in range(WRITERS)]
        observer = await connect(proc.ws(doc_id))
        clients += [*writer_clients, observer]
        kill_switch = KillSwitch(proc)
        observer.received = kill_switch
        writers = [Writer(c, f"t{i}") for i, c in enumerate(writer_clients)]
        checked_frames = 0
        for cycle in range(KILL_CYCLES):
            if cycle:  # the server restarted by the previous cycle's check
                for client in clients:
                    await reconnect(client)
            base = update_frames(observer)
            # let the stream run until the observer has seen a good number of updates
            await eventually(lambda b=base: update_frames(observer) - b >= 100, timeout=10)
            counts_at_kill = [w.count for w in writers]
            kill_switch.fired.clear()
            kill_switch.armed = True
            await asyncio.wait_for(kill_switch.fired.wait(), 5)
            assert await proc.await_exit(5) == -signal.SIGKILL
            # frames still in the kernel's buffers were broadcast after their commit: count them
            for client in clients:
                await asyncio.wait_for(client.closed.wait(), 5)
            checked_frames += update_frames(observer) - base
            seen_sv = decode_state_vector(observer.doc.get_state())
            seen_update = observer.doc.get_update()
            seen_texts = [str(observer.doc.get(w.name, type=Text)) for w in writers]
            await asyncio.sleep(0.02)  # the writers keep editing offline for a moment
            assert all(w.count > n for w, n in zip(writers, counts_at_kill, strict=True)), (
                "the writers must still be mid-stream at the kill")

            await proc.astart()  # same port, same database
            fresh = await connect(proc.ws(doc_id))
            fresh_sv = decode_state_vector(fresh.doc.get_state())
            fresh_texts = [str(fresh.doc.get(w.name, type=Text)) for w in writers]
            fresh_update = fresh.doc.get_update()
            await fresh.close()
            # 1. per client id, the stored state covers everything the observer had received
            assert not missing(fresh_sv, seen_sv), (
                f"cycle {cycle}: updates seen before SIGKILL are gone after restart: "
                f"{missing(fresh_sv, seen_sv)}")
            # 2. the observer's content adds nothing to the stored state
            merged = Doc()
            merged.apply_update(fresh_update)
            merged.apply_update(seen_update)
            assert decode_state_vector(merged.get_state()) == fresh_sv
            # 3. each writer only appends: what was seen is a prefix of what was stored, and
            #    what was stored is a prefix of what the writer wrote
            for writer, seen, stored in zip(writers, seen_texts, fresh_texts, strict=True):
                assert stored.startswith(seen), f"cycle {cycle} {writer.name}"
                assert str(merged.get(writer.name, type=Text)) == stored
                assert str(writer.text).startswith(stored), f"cycle {cycle} {writer.name}"

        for writer in writers:
            await writer.stop()
        for client in clients:
            await reconnect(client)
        # the writers pushed what the dead servers never stored: everyone has every edit
        fresh = await connect(proc.ws(doc_id))
        clients.append(fresh)
        for writer in writers:
            full = writer.expected()
            assert str(writer.text) == full
            await eventually(lambda w=writer, f=full: str(fresh.doc.get(w.name, type=Text)) == f
                             and str(observer.doc.get(w.name, type=Text)) == f, timeout=5)

        record_property("updates_checked", checked_frames)
        record_property("characters_checked", sum(seen_sv.get(c.doc.client_id, 0)
                                                  for c in writer_clients))
        record_property("edits_written", sum(w.count for w in writers))
        assert checked_frames >= KILL_CYCLES * 100, f"{checked_frames} update frames checked"
    finally:
        for writer in writers:
            if not writer.task.done():
                await writer.stop()
        for client in clients:
            await client.close()
        proc.stop()


async def test_sigterm_closes_1001_exits_0_and_keeps_everything(tmp_path: Path,
                                                                 record_property):
    """SIGTERM while a writer streams (asking for "saved" confirmations) and an observer
    watches: both get 1001, the process exits 0 within seconds, and after a restart the store
    holds everything settled before, everything the observer saw and everything confirmed."""
    proc = QuireProcess(tmp_path, auth=False)
    clients: list[YClient] = []
    try:
        await proc.astart()
        doc_id = await proc.anew_doc("graceful")
        writer_client = await connect(proc.ws(doc_id, saved="1"))
        observer = await connect(proc.ws(doc_id))
        clients += [writer_client, observer]
        text = writer_client.doc.get("t", type=Text)
        # a settled part: the server has applied, stored and relayed all of it
        for i in range(100):
            text += f"a{i},"
            await asyncio.sleep(0)
        settled = str(text)
        await eventually(lambda: str(observer.doc.get("t", type=Text)) == settled, timeout=5)
        # then SIGTERM while the writer is still streaming
        writer = Writer(writer_client)
        await eventually(lambda: update_frames(observer) >= 150, timeout=10)
        proc.signal(signal.SIGTERM)
        await asyncio.wait_for(observer.closed.wait(), 5)
        await asyncio.wait_for(writer_client.closed.wait(), 5)
        await writer.stop()
        assert observer.close_code == 1001, (observer.close_code, observer.close_reason)
        assert writer_client.close_code == 1001, (writer_client.close_code,
                                                  writer_client.close_reason)
        assert await proc.await_exit(5) == 0, proc.log_tail()  # a graceful stop is a clean exit

        seen_sv = decode_state_vector(observer.doc.get_state())
        confirmed = writer_client.persisted_sv
        assert confirmed is not None
        confirmed_sv = decode_state_vector(confirmed)

        await proc.astart()
        fresh = await connect(proc.ws(doc_id))
        clients.append(fresh)
        fresh_sv = decode_state_vector(fresh.doc.get_state())
        fresh_text = str(fresh.doc.get("t", type=Text))
        assert fresh_text.startswith(settled)
        assert fresh_text.startswith(str(observer.doc.get("t", type=Text)))
        assert not missing(fresh_sv, seen_sv), missing(fresh_sv, seen_sv)
        assert not missing(fresh_sv, confirmed_sv), (
            f"edits confirmed as saved are gone: {missing(fresh_sv, confirmed_sv)}")
        # and what was stored is exactly what the writer wrote, in order (nothing invented)
        writer_id = writer_client.doc.client_id
        record_property("writer_clock_checked", fresh_sv.get(writer_id, 0))
        record_property("edits_written", 100 + writer.count)
        assert str(writer_client.doc.get("t", type=Text)).startswith(fresh_text)
    finally:
        for client in clients:
            await client.close()
        proc.stop()

