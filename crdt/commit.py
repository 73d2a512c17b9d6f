"""The committer: what a room applied is stored, then sent on, in that order (the durability rule:
nobody sees an update before it is committed, and a newcomer's sync answer waits for the commit
that covers what it holds). The one place that decides by origin what is stored (clients' and the
server's changes, not what another process relayed: it stored them) and who is sent what
(everyone but the connection that sent it); then published to other processes, once durable.

A keystroke is committed within the frame that carried it when the store can commit without
waiting (`persist_soon`); otherwise, and for a burst, a flusher task commits what is pending as
one batch. Every `compact_every` updates a compaction folds the log into a snapshot, in a task of
its own: commits and broadcasts do not wait for it."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING

from pycrdt import merge_updates

from crdt import protocol
from crdt.connection import Connection
from crdt.origins import RELAY, Origin
from crdt.ports import RelayKind

if TYPE_CHECKING:
    from crdt.room import Room

log = logging.getLogger("quire.room")


class Committer:
    """A room's pending changes, their commit and their delivery."""

    __slots__ = ("room", "pending", "deferred", "applied_seq", "persisted_seq", "since_compact",
                 "flusher", "compactor")

    def __init__(self, room: Room) -> None:
        self.room = room
        self.pending: list[tuple[Origin, bytes]] = []
        self.deferred: list[tuple[int, Connection, bytes]] = []  # answers waiting for a commit
        self.applied_seq = 0
        self.persisted_seq = 0
        self.since_compact = 0
        self.flusher: asyncio.Task[None] | None = None  # runs only while something is pending
        self.compactor: asyncio.Task[None] | None = None  # a compaction under way

    def add(self, origin: Origin, update: bytes, *, soon: bool) -> None:
        """The doc integrated `update` from `origin`; with `soon`, commit it in a task (else the
        caller calls `persist_soon` once its frames are applied)."""
        self.pending.append((origin, update))
        self.applied_seq += 1
        if soon:
            self.schedule()

    async def stop(self) -> None:
        for task in (self.flusher, self.compactor):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    def clear(self) -> None:
        """The room failed: nothing pending is stored or sent."""
        self.pending.clear()
        self.deferred.clear()

    async def drain(self) -> None:
        """Wait until everything applied so far is persisted (or the room failed)."""
        while (self.pending or self.flusher is not None) and not self.room.failed:
            self.schedule()
            if self.flusher is not None:
                await asyncio.shield(self.flusher)

    def schedule(self) -> None:
        if self.flusher is None and self.pending and not self.room.failed:
            self.flusher = asyncio.get_running_loop().create_task(self._flush_all())

    async def _flush_all(self) -> None:
        """Persist and broadcast until nothing is pending (the task then ends)."""
        try:
            while self.pending and not self.room.failed:
                await self._flush()
        finally:
            self.flusher = None

    def send_when_persisted(self, conn: Connection, message: bytes) -> None:
        if self.persisted_seq >= self.applied_seq:
            conn.send(message)
        else:
            self.deferred.append((self.applied_seq, conn, message))

    def persist_soon(self) -> None:
        """Persist and broadcast what is pending: at once if the store can commit without
        waiting (one keystroke then reaches everyone within the frame that carried it),
        otherwise in the flusher task. Either way nobody sees an update before it is stored."""
        if self.flusher is not None or not self.pending or self.room.failed:
            return  # a running flusher takes whatever is pending when its commit is done
        if self.since_compact + len(self.pending) < self.room.compact_every:
            to_store = [update for origin, update in self.pending if origin != RELAY]
            started = time.perf_counter()
            try:
                stored = not to_store or self.room.store.append_now(self.room.doc_id, to_store)
            except Exception:
                self._persist_failed(len(to_store))
                return
            if stored:
                batch, self.pending = self.pending, []
                self._persisted(batch, self.applied_seq, to_store, started,
                                self._confirm_state(batch))
                return
        self.schedule()

    async def _flush(self) -> None:
        batch, self.pending = self.pending, []
        seq = self.applied_seq
        to_store = [update for origin, update in batch if origin != RELAY]
        state = self._confirm_state(batch)  # what this batch covers, before more is applied
        started = time.perf_counter()
        if to_store:
            try:
                await self.room.store.append(self.room.doc_id, to_store)
            except Exception:
                self._persist_failed(len(to_store))
                return
        self._persisted(batch, seq, to_store, started, state)
        if self.since_compact >= self.room.compact_every and self.compactor is None:
            self.compactor = asyncio.get_running_loop().create_task(self._compact())

    async def _compact(self) -> None:
        """Beside the flusher, not in it: a large document's merge takes a tenth of a second or
        more, and the keystrokes that arrive meanwhile are committed and sent on as usual."""
        try:
            await self.room.compact()
        except Exception:
            log.exception("doc %s: compaction failed (the log is intact)", self.room.doc_id)
        finally:
            self.compactor = None

    def _persist_failed(self, count: int) -> None:
        self.room.stats.persist_failures += 1
        log.exception("doc %s: persisting %d updates failed; discarding the room so clients "
                      "resync from the store", self.room.doc_id, count)
        self.room.fail()

    def _confirm_state(self, batch: list[tuple[Origin, bytes]]) -> bytes | None:
        """The state vector to confirm as persisted, if a sender in `batch` asked for that."""
        if any(isinstance(o, Connection) and o.wants_persisted for o, _ in batch):
            return self.room.doc.get_state()
        return None

    def _persisted(self, batch: list[tuple[Origin, bytes]], seq: int, to_store: list[bytes],
                   started: float, state: bytes | None) -> None:
        """`batch` (applied up to `seq`, covering `state`) is durable: tell everyone."""
        if to_store:
            self.room.stats.observe_persist(time.perf_counter() - started)
            self.room.stats.updates_persisted += len(to_store)
        self.persisted_seq = seq
        self._broadcast(batch)
        if self.room.relay is not None and to_store:
            # published only once durable, so another process can always catch up from the
            # database whatever it missed on the wire
            self.room.relay.publish(self.room.doc_id, RelayKind.UPDATE,
                               to_store[0] if len(to_store) == 1 else merge_updates(*to_store))
        if state is not None:
            message = protocol.persisted_message(state)
            for conn in {o for o, _ in batch if isinstance(o, Connection) and o.wants_persisted}:
                conn.send(message)
        self._release_deferred()
        self.since_compact += len(to_store)

    def _broadcast(self, batch: list[tuple[Origin, bytes]]) -> None:
        origins = {origin for origin, _ in batch}
        everyone = self._frame([u for _, u in batch])
        for conn in self.room.connections:
            if conn not in origins:
                conn.send(everyone)
            elif len(origins) > 1:
                others = [u for o, u in batch if o is not conn]
                if others:
                    conn.send(self._frame(others))

    @staticmethod
    def _frame(updates: list[bytes]) -> bytes:
        # Encode once for all recipients; a burst becomes one merged update per tick.
        return protocol.update_message(updates[0] if len(updates) == 1 else merge_updates(*updates))

    def _release_deferred(self) -> None:
        if not self.deferred:
            return
        ready = [d for d in self.deferred if d[0] <= self.persisted_seq]
        self.deferred = [d for d in self.deferred if d[0] > self.persisted_seq]
        for _, conn, message in ready:
            conn.send(message)
