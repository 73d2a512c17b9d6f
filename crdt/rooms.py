"""The registry of open rooms: load each document once, unload it when nobody is left.

Two maps keep a document from being loaded twice at once (`_rooms`, `_loading`); unloading
re-checks "still nobody here?" after every await, and a room being unloaded accepts no joins —
a newcomer waits for the unload to finish and then loads a fresh room from the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from crdt.connection import Connection
from crdt.flag import Flag
from crdt.limits import PresenceLimits
from crdt.ports import Channel, UpdateStore
from crdt.protocol import CloseCode
from crdt.room import Room
from crdt.stats import Stats

log = logging.getLogger("quire.rooms")


class RoomUnavailable(Exception):
    """A document's room cannot be had right now (the caller may try again later)."""


class ShuttingDown(RoomUnavailable):
    """The registry is closed: the server is stopping."""


class LoadFailed(RoomUnavailable):
    """The document could not be loaded from the store."""


@dataclass(frozen=True)
class Preloaded:
    """A document's stored updates, read by the caller ahead of `Rooms.join` (in the same
    opener visit as its access check), with the ticket `Rooms.preload_ticket` gave
    before the read. The room is built from them only if no room of that document came and went
    since the ticket (it might have stored more); otherwise the room reads the store itself."""

    ticket: int
    updates: list[bytes]


class Rooms:
    def __init__(
        self,
        store: UpdateStore,
        *,
        unload_after: float = 5.0,
        compact_every: int = 500,
        max_backlog: int = 16 * 1024 * 1024,
        stats: Stats | None = None,
        max_document_bytes: int = 32 * 1024 * 1024,
        updates_per_second: float = 100.0,
        update_burst: int = 500,
        presence_limits: PresenceLimits | None = None,
    ) -> None:
        self.max_document_bytes = max_document_bytes
        self.presence_limits = presence_limits or PresenceLimits()
        self.updates_per_second = updates_per_second
        self.update_burst = update_burst
        self.store = store
        self.unload_after = unload_after
        self.compact_every = compact_every
        self.max_backlog = max_backlog
        self.stats = stats or Stats()
        self.room_observers: list[Callable[[Room], None]] = []  # called when a room is loaded
        # awaited when a room unloads, after its pending updates are persisted
        self.unload_observers: list[Callable[[Room], Awaitable[None]]] = []
        self._rooms: dict[str, Room] = {}
        self._loading: dict[str, asyncio.Future[Room]] = {}
        self._unloaders: dict[Room, asyncio.Task[None]] = {}
        self._unloaded: dict[Room, Flag] = {}
        self._closed = False
        self._forgotten = 0  # rooms forgotten so far: the ticket of `preload_ticket`

    # ---- queries ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._rooms)

    def open_room(self, doc_id: str, *, booting: bool = False) -> Room | None:
        """The live room of a document, if it is open (not being unloaded) and its doc built
        (or still being built, with `booting`)."""
        room = self._rooms.get(doc_id)
        if room is None or room.closing or not (booting or room.ready.is_set()):
            return None
        return room

    def open_doc_ids(self) -> list[str]:
        return [doc_id for doc_id, room in self._rooms.items() if not room.closing]

    def online(self, doc_id: str) -> int:
        room = self._rooms.get(doc_id)
        return len(room.connections) if room else 0

    @property
    def connection_count(self) -> int:
        return sum(len(r.connections) for r in self._rooms.values())

    def preload_ticket(self, doc_id: str) -> int | None:
        """None when `doc_id` has a room here (open, loading or unloading): joining it reads
        nothing. Otherwise a ticket for reading its stored state ahead of `join` (`Preloaded`)."""
        if doc_id in self._rooms or doc_id in self._loading:
            return None
        return self._forgotten

    # ---- get or load -----------------------------------------------------------------------

    async def get(self, doc_id: str, *, ready: bool = True,
                  preloaded: Preloaded | None = None) -> Room:
        """The open room for `doc_id`, loading it from the store if needed (once), or from
        `preloaded` if that is still good. With `ready=False` the room may still be building
        its doc (enough to serve a client)."""
        room = await self._get(doc_id, preloaded)
        if ready and not room.ready.is_set():
            await room.built()
            if room.failed:
                raise LoadFailed("the document could not be loaded")
        return room

    async def _get(self, doc_id: str, preloaded: Preloaded | None = None) -> Room:
        while True:
            if self._closed:
                raise ShuttingDown("server shutting down")
            room = self._rooms.get(doc_id)
            if room is not None and room.failed:
                await self._forget(room)
                continue
            if room is not None:
                if not room.closing:
                    self._cancel_unload(room)
                    return room
                await self._unloaded[room].wait()
                continue
            loading = self._loading.get(doc_id)
            if loading is not None:
                await asyncio.shield(loading)
                continue
            if preloaded is not None and preloaded.ticket != self._forgotten:
                preloaded = None  # a room came and went since it was read: it may be stale
            return await self._load(doc_id, preloaded)

    async def _load(self, doc_id: str, preloaded: Preloaded | None = None) -> Room:
        future: asyncio.Future[Room] = asyncio.get_running_loop().create_future()
        self._loading[doc_id] = future
        try:
            room = Room(doc_id, self.store, stats=self.stats, compact_every=self.compact_every,
                        max_bytes=self.max_document_bytes, limits=self.presence_limits)
            await room.fetch(preloaded.updates if preloaded is not None else None)
            await room.start()  # builds the doc (a big one in a task, see Room.start)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters retry through get()
            raise
        finally:
            del self._loading[doc_id]
        self._rooms[doc_id] = room
        self._unloaded[room] = Flag()
        for observer in self.room_observers:
            observer(room)
        future.set_result(room)
        return room

    async def with_room(self, doc_id: str) -> Room:
        """A room for a server-side change; it unloads after the grace period if nobody joins."""
        room = await self.get(doc_id)
        self._schedule_unload(room)
        return room

    # ---- connections -----------------------------------------------------------------------

    async def join(self, doc_id: str, channel: Channel, *, wants_persisted: bool = False,
                   label: str = "", role: str = "editor", identity: object = None,
                   verified_name: str | None = None, account: str | None = None,
                   username: str | None = None, preloaded: Preloaded | None = None) -> None:
        """Serve one client on `doc_id` until it leaves. Raises what loading raises."""
        room = await self.get(doc_id, ready=False, preloaded=preloaded)
        # the stored bytes are in the room now; this frame lives as long as the client
        del preloaded
        conn = Connection(channel, wants_persisted=wants_persisted,
                          max_backlog=self.max_backlog, stats=self.stats, label=label,
                          role=role, identity=identity, verified_name=verified_name,
                          account=account, username=username,
                          updates_per_second=self.updates_per_second,
                          update_burst=self.update_burst, limits=self.presence_limits)
        try:
            await room.serve(conn)
        finally:
            if not room.connections and not room.closing:
                self._schedule_unload(room)

    # ---- unload ----------------------------------------------------------------------------

    def _schedule_unload(self, room: Room) -> None:
        self._cancel_unload(room)
        if room.connections or self._closed:
            return
        self._unloaders[room] = asyncio.create_task(self._unload_later(room))

    def _cancel_unload(self, room: Room) -> None:
        task = self._unloaders.pop(room, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    async def _unload_later(self, room: Room) -> None:
        await asyncio.sleep(self.unload_after)
        if room.connections or room.closing:
            return
        self._unloaders.pop(room, None)
        await self.unload(room)

    async def unload(self, room: Room, *, compact: bool = True) -> None:
        """Persist what is pending, compact, stop the room task and forget the room."""
        room.closing = True
        try:
            await room.drain()
            if not room.failed:
                for observer in self.unload_observers:
                    try:
                        await observer(room)
                    except Exception:
                        log.exception("doc %s: unload observer failed", room.doc_id)
            if compact and not room.failed:
                try:
                    await room.compact()
                except Exception:
                    log.exception("doc %s: compaction on unload failed (the log is intact)",
                                  room.doc_id)
        finally:
            await self._forget(room)

    async def _forget(self, room: Room) -> None:
        self._forgotten += 1
        await room.stop()
        if self._rooms.get(room.doc_id) is room:
            del self._rooms[room.doc_id]
        self._cancel_unload(room)
        event = self._unloaded.pop(room, None)
        if event is not None:
            event.set()

    async def discard(self, doc_id: str, code: int, reason: str) -> None:
        """Close a document's clients and drop its room without persisting (it was deleted)."""
        room = self._rooms.get(doc_id)
        if room is None:
            return
        room.closing = True
        room.failed = True
        room.close_all(code, reason)
        await self._forget(room)

    async def aclose(self, code: int = CloseCode.GOING_AWAY,
                     reason: str = "server restarting") -> None:
        """Shut down: persist and compact every open room, then close its clients with `code`."""
        if self._closed:
            return
        self._closed = True
        rooms = list(self._rooms.values())
        for room in rooms:
            room.closing = True
        for room in rooms:
            await room.drain()
            room.close_all(code, reason)
        for room in rooms:
            await self.unload(room)
        for task in list(self._unloaders.values()):
            task.cancel()
        self._unloaders.clear()
