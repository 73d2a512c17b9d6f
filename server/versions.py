"""`VersionKeeper`: version history in a running server.

It watches every open room. Edits mark a document as changed (remembering which connections sent
them, for the authors list); a version is taken once the edits pause for `quiet` seconds, after
at most `max_interval` seconds of continuous editing, and when the room unloads after the last
person left. Named versions and restores come from the API through the same path, one at a time
per document.

A version is only ever taken right after `room.drain()`, so everything in it is already in the
update log. That is what makes deltas safe: the document a room holds later (the same Doc, or one
reloaded from the log) always contains the version before it, so `doc.get_update(sv_before)`
applied on top of the version before gives exactly the new state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime

from pycrdt import Doc
from sqlalchemy.engine import Engine

from crdt import versions as crdt_versions
from crdt.budget import Deadline
from crdt.connection import Connection
from crdt.room import RELAY, SERVER, Origin, Room
from crdt.rooms import Rooms
from crdt.update_format import UpdateError, parse_update
from server.access import Principal
from server.cpu import CpuPool
from server.waiting import Deadlines, wait_until
from storage import versions as store
from storage.versions import Kind, Tier, VersionInfo

log = logging.getLogger("quire.versions")

MAX_AUTHORS = 50
MAX_REMEMBERED = 10_000  # documents whose last version (for deltas) this process remembers
MAX_AUTHOR_NAME = 100
Author = dict[str, str | None]  # {"id", "name", "username"}, as stored (storage/versions.py)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class VersionUnavailable(Exception):
    """The document could not be read or written right now (its room failed or it is gone)."""


def parse_retention(spec: str) -> list[Tier]:
    """`"1d:1h,7d:1d,90d:1w"` -> tiers: automatic versions older than 1 day are kept one per
    hour, older than 7 days one per day, older than 90 days one per week. "" keeps everything."""
    tiers = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        match = re.fullmatch(r"(\d+(?:\.\d+)?)([smhdw]):(\d+(?:\.\d+)?)([smhdw])", part)
        if match is None:
            raise ValueError(f"bad retention tier {part!r} (expected e.g. '7d:1h')")
        age, age_unit, every, every_unit = match.groups()
        tiers.append(Tier(age=float(age) * _UNITS[age_unit],
                          every=float(every) * _UNITS[every_unit]))
    return tiers


def describe(info: VersionInfo) -> str:
    """How a version is referred to in another version's name."""
    if info.name:
        return f"“{info.name}”"
    return info.created_at.strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class _Changes:
    """Edits to one document since its last version."""

    room: Room
    first: float
    last: float
    conns: dict[Connection, None] = field(default_factory=dict)
    named: set[Connection] = field(default_factory=set)
    authors: dict[str, Author] = field(default_factory=dict)  # by _key
    parked: bool = False  # its room is unloading: the unload observer takes the version
    local: bool = False  # some of them came from this process's own clients
    not_before: float = 0.0  # retry time after a failed attempt

    def absorb(self, other: _Changes) -> None:
        """Fold in `other`, which is newer."""
        self.room = other.room
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.conns.update(other.conns)
        self.named |= other.named
        self.local = self.local or other.local
        self.authors = {**other.authors, **self.authors}


@dataclass(frozen=True)
class _Base:
    """The last version this process stored for a document, and its state vector."""

    version_id: int
    state_vector: bytes


@dataclass(frozen=True)
class _Capture:
    doc_id: str
    state: bytes
    state_vector: bytes
    delta: bytes | None
    base_sv: bytes | None
    authors: list[Author]
    changes: _Changes | None


def _key(author: Author) -> str:
    """Two authors are the same person when id (or, without one, name) and name agree."""
    return f"{author['id'] or ''}\0{author['name']}"


def _authors(room: Room, conn: Connection) -> dict[str, Author]:
    """Who sent a connection's edits: a signed-in account by its id, display name and username
    (two people of the same name stay apart); anyone else by the names their awareness states
    show (client-controlled: checked), with "link:<share id>" as id for a share link."""
    principal = conn.identity if isinstance(conn.identity, Principal) else None
    authors: list[dict[str, str | None]]
    if principal is not None and principal.user is not None:
        user = principal.user
        authors = [{"id": user.id, "name": user.display_name[:MAX_AUTHOR_NAME],
                    "username": user.username}]
    else:
        pid = principal.account if principal is not None else None
        authors = []
        for client_id in list(conn.awareness_ids):
            state = room.awareness.states.get(client_id)
            shown = state.get("user") if isinstance(state, dict) else None
            name = shown.get("name") if isinstance(shown, dict) else None
            if isinstance(name, str) and name.strip():
                authors.append({"id": pid, "name": name.strip()[:MAX_AUTHOR_NAME],
                                "username": None})
    return {_key(author): author for author in authors}


def _relayed_authors(room: Room, update: bytes) -> list[Author]:
    """The accounts of the Yjs client ids whose items `update` brings, as recorded."""
    if not update:
        return []
    try:
        clients = {struct.client for struct in parse_update(update).structs}
    except UpdateError:
        return []
    found: list[Author] = []
    for client in clients:
        owner = room.owners.known.get(client)
        if owner is not None:
            found.append({"id": owner.account,
                          "name": (owner.name or "Someone")[:MAX_AUTHOR_NAME], "username": None})
    return found


class VersionKeeper:
    def __init__(
        self,
        engine: Engine,
        rooms: Rooms,
        *,
        quiet: float = 10.0,
        max_interval: float = 300.0,
        checkpoint_every: int = 32,
        retention: list[Tier] | None = None,
        prune_every: float = 600.0,
        cpu: CpuPool | None = None,
        restore_budget: float | None = None,
    ) -> None:
        self.engine = engine
        self.rooms = rooms
        self.quiet = quiet
        self.max_interval = max_interval
        self.checkpoint_every = checkpoint_every
        self.retention = retention or []
        self.prune_every = prune_every
        # restores are computed on a copy of the document, on these threads, within this time
        self.cpu = cpu or CpuPool(1, 4, name="quire-restore")
        self.restore_budget = restore_budget
        self._changes: dict[str, _Changes] = {}
        # per document: the last version stored (bounded: a forgotten one only means the next
        # version is stored in full), when it was last thinned, and who holds it
        self._bases: OrderedDict[str, _Base] = OrderedDict()
        self._pruned: OrderedDict[str, float] = OrderedDict()
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._wake = asyncio.Event()
        # when each document with changes may fall due (later edits may have moved it on)
        self._deadlines: Deadlines[str] = Deadlines()

    # ---- watching rooms ----------------------------------------------------------------------

    def attach(self) -> None:
        """Start watching the rooms (as they load) and their unloads."""
        self.rooms.room_observers.append(self.watch)
        self.rooms.unload_observers.append(self.on_unload)

    def watch(self, room: Room) -> None:
        """Room observer: note every change applied to the room (called inside transactions)."""

        def changed(update: bytes, origin: Origin) -> None:
            self._changed(room, origin, update)

        room.update_observers.append(changed)

    def _changed(self, room: Room, origin: Origin, update: bytes = b"") -> None:
        now = time.monotonic()
        changes = self._changes.get(room.doc_id)
        moved = changes is None or changes.parked or (origin != RELAY and not changes.local)
        if changes is None:
            changes = self._changes[room.doc_id] = _Changes(room=room, first=now, last=now)
        else:
            changes.last = now
            changes.room = room
            changes.parked = False
        if origin != RELAY:
            changes.local = True
        if moved:  # new, back from parked, or due sooner now that it has local edits
            self._schedule(room.doc_id, changes)
        if origin == RELAY:
            # another process's clients: their accounts are in the document's record of
            # client ids (crdt/authors.py), so whichever process cuts the version names them
            for author in _relayed_authors(room, update):
                changes.authors.setdefault(_key(author), author)
            return
        if isinstance(origin, Connection) and origin not in changes.named:
            # Clients announce their name (awareness) just after their first edits: retry.
            changes.conns[origin] = None
            authors = _authors(room, origin)
            if authors:
                changes.named.add(origin)
                changes.authors.update(authors)

    async def on_unload(self, room: Room) -> None:
        """Unload observer: the last person left; keep what they did. Waits for any version
        operation in progress (a restore must not change a room that is going away)."""
        async with self._lock(room.doc_id):
            pass
        if room.doc_id in self._changes:
            await self.take(room.doc_id, room=room)

    # ---- automatic versions ------------------------------------------------------------------

    def _due_at(self, changes: _Changes) -> float:
        # Edits relayed from another process are versioned there as well: this process waits
        # a while longer, then finds that version covering them and only adds its authors
        # (storage/versions.py add_version `covered_by`), or cuts one if that process is gone.
        later = 0.0 if changes.local else self.quiet
        return max(min(changes.last + self.quiet, changes.first + self.max_interval) + later,
                   changes.not_before)

    def _schedule(self, doc_id: str, changes: _Changes) -> None:
        if self._deadlines.at(doc_id, self._due_at(changes)):
            self._wake.set()

    async def run(self) -> None:
        """Take automatic versions when they fall due (the lifespan owns this task)."""
        while True:
            await wait_until(self._wake, self._deadlines.soonest())
            while (doc_id := self._deadlines.pop_due(time.monotonic())) is not None:
                changes = self._changes.get(doc_id)
                if changes is None or changes.parked:
                    continue  # versioned meanwhile; or its room's unload will take it
                if changes.room.failed:  # deleted, or lost its store: nothing to keep here
                    self._changes.pop(doc_id, None)
                    continue
                due = self._due_at(changes)
                if due > time.monotonic():  # edited since: wait for the pause
                    self._deadlines.at(doc_id, due)
                    continue
                await self._auto(doc_id, changes)

    async def _auto(self, doc_id: str, changes: _Changes) -> None:
        if self._changes.get(doc_id) is not changes:
            return  # a version was taken meanwhile (named, restore, unload)
        if changes.room.closing:
            changes.parked = True
            return
        try:
            await self.take(doc_id, room=changes.room)
        except Exception:
            log.exception("doc %s: could not take an automatic version; retrying later", doc_id)
            pending = self._changes.get(doc_id)
            if pending is not None:
                pending.not_before = time.monotonic() + max(self.quiet, 1.0)
                self._schedule(doc_id, pending)

    # ---- taking versions -----------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _lock(self, doc_id: str) -> AsyncIterator[None]:
        """One version operation at a time per document (the entry goes when unused)."""
        lock, users = self._locks.get(doc_id) or (asyncio.Lock(), 0)
        self._locks[doc_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[doc_id]
            if users == 1:
                del self._locks[doc_id]
            else:
                self._locks[doc_id] = (lock, users - 1)

    @contextlib.asynccontextmanager
    async def _live_room(self, doc_id: str) -> AsyncIterator[Room]:
        """The document's room, locked, and not unloading: safe to change. (An unload waits for
        the lock in `on_unload`, so the room stays open until we are done.)"""
        while True:
            room = await self.rooms.with_room(doc_id)
            async with self._lock(doc_id):
                if not room.closing:
                    yield room
                    return
            await asyncio.sleep(0)  # it is unloading: wait for that, then load it again

    def _remember(self, table: OrderedDict, doc_id: str, value) -> None:
        table[doc_id] = value
        table.move_to_end(doc_id)
        while len(table) > MAX_REMEMBERED:
            table.popitem(last=False)

    async def take(self, doc_id: str, *, kind: Kind = "auto", name: str | None = None,
                   room: Room | None = None) -> VersionInfo:
        """Store the document's current state as a version (after persisting pending edits)."""
        if room is None:
            room = await self.rooms.with_room(doc_id)
        async with self._lock(doc_id):
            await self._settle(room)
            capture = self._capture(room)
            info = await self._store(capture, kind=kind, name=name)
        if kind == "auto":
            await self._maybe_prune(doc_id)
        return info

    async def restore(self, doc_id: str, version_id: int) -> tuple[VersionInfo, VersionInfo] | None:
        """Make the document equal to a version, as a new change everyone receives.

        Takes a "before" version first (so restoring it undoes this) and records the restore
        as a version too. Returns (before, restored), or None if there is no such version."""
        target = await self.load(doc_id, version_id)
        if target is None:
            return None
        info, version = target
        label = describe(info)
        async with self._live_room(doc_id) as room:
            await self._settle(room)
            before = self._capture(room)
            try:
                # Worked out off the event loop, on a copy of the state just captured (the live
                # Doc is not thread-safe); edits that arrive meanwhile merge with it as usual.
                update = await self.cpu.run(crdt_versions.restore_update, before.state, version,
                                            Deadline(self.restore_budget))
                if update is not None:
                    room.apply(update, SERVER)  # stored and broadcast like any server change
            except Exception:
                self._unpop(before)
                raise
            await room.drain()
            restored = self._capture(room, base_sv=before.state_vector) \
                if not room.failed else None
            before_info = await self._store(before, kind="auto", name=f"Before restoring {label}")
            if restored is None:
                raise VersionUnavailable("the restore could not be saved")
            restored_info = await self._store(restored, kind="restore",
                                              name=f"Restored from {label}")
        return before_info, restored_info

    async def load(self, doc_id: str, version_id: int) -> tuple[VersionInfo, Doc] | None:
        """A stored version and its content as a Doc (built off the event loop)."""

        def read() -> tuple[VersionInfo, Doc] | None:
            info = store.get_version(self.engine, doc_id=doc_id, version_id=version_id)
            parts = store.load_version(self.engine, doc_id=doc_id, version_id=version_id)
            if info is None or parts is None:
                return None
            return info, crdt_versions.doc_from_parts(parts)

        return await asyncio.to_thread(read)

    async def prune(self, doc_id: str, *, now: datetime | None = None) -> int:
        """Apply the retention policy to one document now. Returns versions removed."""
        async with self._lock(doc_id):
            removed = await asyncio.to_thread(
                store.prune_versions, self.engine, doc_id=doc_id, tiers=self.retention,
                merge=crdt_versions.merge_deltas, squash=crdt_versions.squash, now=now)
        self._remember(self._pruned, doc_id, time.monotonic())
        return removed

    async def _maybe_prune(self, doc_id: str) -> None:
        if not self.retention:
            return
        last = self._pruned.get(doc_id)
        if last is not None and time.monotonic() - last < self.prune_every:
            return
        try:
            removed = await self.prune(doc_id)
        except Exception:
            log.exception("doc %s: thinning versions failed (they are all still there)", doc_id)
            return
        if removed:
            log.info("doc %s: retention removed %d automatic versions", doc_id, removed)

    async def _settle(self, room: Room) -> None:
        await room.drain()
        if room.failed:
            raise VersionUnavailable("the document's storage failed; try again")

    def _capture(self, room: Room, *, base_sv: bytes | None = None) -> _Capture:
        """The room's state right now (call straight after a drain, with no await between)."""
        doc_id = room.doc_id
        changes = self._changes.pop(doc_id, None)
        if base_sv is None:
            base = self._bases.get(doc_id)
            base_sv = base.state_vector if base is not None else None
        authors: dict[str, Author] = {}
        if changes is not None:
            authors.update(changes.authors)
            for conn in changes.conns:  # late names, and names changed since
                authors.update(_authors(room, conn))
        return _Capture(
            doc_id=doc_id,
            state=room.doc.get_update(),
            state_vector=room.doc.get_state(),
            delta=room.doc.get_update(base_sv) if base_sv is not None else None,
            base_sv=base_sv,
            authors=list(authors.values())[:MAX_AUTHORS],
            changes=changes,
        )

    async def _store(self, capture: _Capture, *, kind: Kind, name: str | None) -> VersionInfo:
        doc_id = capture.doc_id
        base = self._bases.get(doc_id)
        use_delta = (capture.delta is not None and base is not None
                     and base.state_vector == capture.base_sv)
        wanted = capture.state_vector

        def covered_by(stored: bytes) -> bool:
            return crdt_versions.covers(stored, wanted)

        try:
            info = await asyncio.to_thread(
                store.add_version, self.engine, doc_id=doc_id, state=capture.state, kind=kind,
                name=name, authors=capture.authors,
                delta=capture.delta if use_delta else None,
                base_id=base.version_id if use_delta and base is not None else None,
                checkpoint_every=self.checkpoint_every, state_vector=wanted,
                # an automatic version another process already cut holding all of this
                covered_by=covered_by if kind == "auto" and name is None else None)
        except Exception:
            self._unpop(capture)
            raise
        if info is None:
            raise VersionUnavailable("the document no longer exists")
        if not info.merged:  # (a merged one may hold more than this doc: no base for deltas)
            self._remember(self._bases, doc_id, _Base(info.id, capture.state_vector))
        return info

    def _unpop(self, capture: _Capture) -> None:
        """A version failed to store: its changes still need one."""
        if capture.changes is None:
            return
        newer = self._changes.get(capture.doc_id)
        if newer is not None:
            capture.changes.absorb(newer)
        capture.changes.parked = False
        self._changes[capture.doc_id] = capture.changes
        self._schedule(capture.doc_id, capture.changes)
