"""One open document: its Doc and the connections editing it (Hocuspocus's `Document`).

A room is cut like Hocuspocus's: this module holds the Doc, the connections and the room's life
(load, build, serve, apply, fail, compact); `crdt/receiver.py` switches each client frame and
checks it against the sender's role; `crdt/commit.py` stores what was applied, then sends it on
(the only place that decides by origin); `crdt/presence.py` keeps the awareness states.

Every change carries an origin (crdt/origins.py) — a client `Connection`, `SERVER` (a change made
by Quire itself: REST, restore, import) or `RELAY` (from another server process).

Durability rule: an update is committed to the store before any other client can see it — both
broadcasts and sync-step-2 replies to newcomers wait for the commit that covers them.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable
from typing import Any

from pycrdt import Awareness, Doc, Map, merge_updates

from crdt import comments, observing, protocol
from crdt.authors import Owners
from crdt.commit import Committer
from crdt.compaction import digest, merge_to_state
from crdt.connection import Connection
from crdt.flag import Flag
from crdt.gate import Gate
from crdt.limits import PresenceLimits
from crdt.origins import RELAY, SERVER, Origin
from crdt.ports import ChannelClosed, Relay, UpdateStore
from crdt.presence import Presence
from crdt.protocol import FATAL, CloseCode, Kind, ProtocolError
from crdt.receiver import Receiver
from crdt.stats import Stats
from crdt.suggestion_check import SuggestionCheck
from crdt.update_format import Update, UpdateError, sanitize_read

__all__ = ["RELAY", "SERVER", "Origin", "Room", "RoomFailed"]

observing.install()  # pycrdt reads each observer's signature once (crdt/observing.py)
log = logging.getLogger("quire.room")

EMPTY_STATE_VECTOR = b"\x00"


# A stored state at least this big is sent to a fresh client as it is, and the doc is built only
# once that answer is out (building holds the GIL: it would hold the answer back).
EARLY_ANSWER_BYTES = 64 * 1024
# A stored state up to this size is placed and built on the event loop (a thread hop costs
# more); a bigger one in a worker thread (the gate reads about a byte per microsecond).
INLINE_BUILD_BYTES = 16 * 1024
# Without anything asking for it sooner, a booting room builds its doc after this long.
BUILD_AFTER = 0.2




class RoomFailed(Exception):
    """The room lost its store and was discarded; connect again to get a fresh one."""




class Room:
    # a server holds thousands of rooms: no per-instance dict
    __slots__ = (
        "doc_id", "max_bytes", "size", "store", "stats", "compact_every", "doc", "connections",
        "closing", "failed", "update_observers", "comment_observers", "keepalive", "relay",
        "ready", "limits", "gate", "suggestions", "owners", "presence", "receiver",
        "committer", "_misattributed", "_origin", "_builder", "_boot", "_build_now",
        "_step1_waiting", "_comments", "_applying", "_holding", "_stored", "_quarantined",
        "_screened", "__weakref__",
    )

    def __init__(
        self,
        doc_id: str,
        store: UpdateStore,
        *,
        stats: Stats | None = None,
        compact_every: int = 500,
        max_bytes: int = 32 * 1024 * 1024,
        limits: PresenceLimits | None = None,
    ) -> None:
        self.doc_id = doc_id
        self.limits = limits or PresenceLimits()  # presence relayed from other processes
        self.max_bytes = max_bytes
        self.size = 0  # stored bytes: loaded state plus every update since (an upper bound)
        self.store = store
        self.stats = stats or Stats()
        self.compact_every = compact_every
        self.doc: Doc[Any] = Doc()
        self.connections: set[Connection] = set()
        self.closing = False  # no new joins; the registry loads a fresh room instead
        self.failed = False
        self.update_observers: list[Callable[[bytes, Origin], None]] = []
        # told of every change to the comment threads (deep events of "comments"), in the
        # transaction: they may only read
        self.comment_observers: list[Callable[[list[Any], Map[Any], Origin], None]] = []
        self.keepalive: list[Any] = []  # observers others attached to this room's doc
        self.relay: Relay | None = None
        self.ready = Flag()  # the doc is built
        self.gate = Gate()  # judges every update against the document (crdt/gate.py)
        self.suggestions = SuggestionCheck()  # a commenter's text: suggestions only
        self.owners = Owners(self.doc)  # whose each Yjs client id is (crdt/authors.py)
        self.presence = Presence(self)
        self.receiver = Receiver(self)
        self.committer = Committer(self)
        self._misattributed: list[Any] = []
        self._origin: Origin = SERVER
        self._applying = False  # inside `apply`: it persists what it applied itself
        self._holding = False  # frames that arrived together are being applied: persist after
        self._builder: asyncio.Task[None] | None = None
        self._boot: bytes | None = None  # the stored state, while the doc is being built
        self._build_now = Flag()  # something needs the doc: build it now
        self._step1_waiting: list[Connection] = []  # joined while booting: step 1 once built
        self._stored: list[bytes] | None = None  # the stored updates, until the doc is built
        self._quarantined: list[tuple[bytes, str]] = []  # stored updates loading left out
        self._screened: bytes | None = None  # digest of the stored snapshot known to be sound

    # ---- lifecycle -------------------------------------------------------------------------

    async def fetch(self, stored: list[bytes] | None = None) -> None:
        """Read the stored updates (snapshot + tail), unless the caller read them (`stored`),
        and merge them, in a worker thread.

        When this state is big, fresh clients are sent it as it is (all of it is persisted)
        before the doc is built: see `_handle_early`. Stored updates are screened before pycrdt
        reads them (`_screen`): here when several are merged, else when the doc is built."""
        updates = stored if stored is not None else await self.store.load(self.doc_id)
        self.size = sum(len(u) for u in updates)
        self.committer.since_compact = max(0, len(updates) - 1)
        if not updates:
            self._boot = b"\x00\x00"
        elif len(updates) == 1:
            self._boot = updates[0]
            self._stored = updates
        else:
            self._boot = await asyncio.to_thread(self._screen_and_merge, updates)

    def _screen_and_merge(self, updates: list[bytes]) -> bytes:
        """(Worker thread.) The stored updates, screened, merged into one."""
        clean, _ = self._screen(updates)
        if not clean:
            return b"\x00\x00"
        return clean[0] if len(clean) == 1 else merge_updates(*clean)

    def _screen(self, updates: list[bytes]) -> tuple[list[bytes], Update | None]:
        """Stored updates made safe for pycrdt (`update_format.sanitize`): an unreadable one is
        left out, one holding values nested too deep is repaired (those items collected); the
        originals are quarantined by the store and reported (log, /metrics). The first (the
        snapshot, when there is one) is remembered as screened for compaction if it was sound;
        when it is the only one, it comes back as read too (the gate need not read it again)."""
        self._screened = None
        clean: list[bytes] = []
        read = None
        for n, update in enumerate(updates):
            safe, why, parsed = sanitize_read(update)
            if why:
                self._quarantine(update, why)
            elif n == 0:
                self._screened = digest(update)
                read = parsed if len(updates) == 1 else None
            if safe is not None:
                clean.append(safe)
        return clean, read

    def _quarantine(self, update: bytes, why: str) -> None:
        self.stats.updates_quarantined += 1
        log.error("doc %s: a stored update (%d bytes) cannot be read safely (%s): quarantined",
                  self.doc_id, len(update), why)
        self._quarantined.append((update, why))

    def _load_state(self, boot: bytes) -> None:
        """Screen the stored state, place its items in the gate (collecting shared types nested
        too deep), then let pycrdt build the doc from it. (In a worker thread for a big doc.)"""
        read = None
        if self._stored is not None:  # one stored update: not screened yet
            clean, read = self._screen(self._stored)
            boot = clean[0] if clean else b"\x00\x00"
        boot, why = self.gate.load(boot, read=read)
        if why:
            self._quarantine(boot, why)
        if boot != b"\x00\x00":
            self.doc.apply_update(boot)

    async def fill(self) -> None:
        """Build the doc from the fetched state (a big one in a worker thread: nobody else can
        touch this Doc yet), then start observing changes, set `ready` and send the sync
        request of every client that joined meanwhile."""
        try:
            boot = self._boot or b"\x00\x00"
            if self._early_answers() or len(boot) > INLINE_BUILD_BYTES:
                await asyncio.to_thread(self._load_state, boot)
            else:
                self._load_state(boot)  # small: quicker than a thread hop
            self.doc.observe(self._on_doc_update)
            self._comments = self.doc.get("comments", type=Map)
            self._comments.observe_deep(self._on_comments)
        except FATAL:
            raise
        except BaseException as exc:  # pyo3 panics are BaseExceptions
            log.exception("doc %s: the stored state could not be loaded", self.doc_id)
            self.fail()
            raise RoomFailed("the stored state could not be loaded") from exc
        finally:
            self._boot = None
            self._stored = None
            self.ready.set()
        if self._quarantined:
            await self._keep_quarantined()
        waiting, self._step1_waiting = self._step1_waiting, []
        if waiting:
            step1 = protocol.sync_step1(self.doc.get_state())
            for conn in waiting:
                if conn in self.connections:
                    conn.send(step1)

    async def _keep_quarantined(self) -> None:
        """Hand what loading left out to the store, to keep for inspection."""
        found, self._quarantined = self._quarantined, []
        for update, why in found:
            try:
                await self.store.quarantine(self.doc_id, update, why)
            except Exception:
                log.exception("doc %s: could not keep a quarantined update", self.doc_id)

    async def built(self) -> None:
        """Wait until the doc is built (asking for it to be built now)."""
        self._build_now.set()
        await self.ready.wait()

    async def start(self) -> None:
        """After `fetch`: build a small doc now; a big one in a task, once the fresh clients
        that came meanwhile were answered from the stored bytes (see `_handle_early`)."""
        if not self._early_answers():
            await self.fill()
            return
        self._builder = asyncio.get_running_loop().create_task(self._build(),
                                                               name=f"build {self.doc_id}")

    async def _build(self) -> None:
        try:
            try:
                await asyncio.wait_for(self._build_now.wait(), BUILD_AFTER)
            except TimeoutError:
                pass
            await self.fill()
        except RoomFailed:
            pass
        finally:
            self._builder = None


    async def stop(self) -> None:
        """Cancel the room's tasks (it is being forgotten)."""
        if self._builder is not None:
            self._builder.cancel()
            try:
                await self._builder
            except asyncio.CancelledError:
                pass
        await self.committer.stop()

    async def drain(self) -> None:
        """Wait until everything applied so far is persisted (or the room failed)."""
        await self.built()
        await self.committer.drain()

    async def compact(self) -> None:
        """Merge the stored log into one snapshot (the committer asks every `compact_every`
        updates, in a task of its own; unloading asks once more, after that one); what cannot
        be read safely is quarantined, not lost."""
        running = self.committer.compactor
        if running is not None and running is not asyncio.current_task():
            await asyncio.wait([running])
        self.committer.since_compact = 0
        left_out: list[tuple[bytes, str]] = []

        def merge(parts: list[bytes]) -> bytes:
            merged = merge_to_state(parts, left_out, self._screened)
            self._screened = digest(merged)  # the snapshot this writes: sound
            return merged

        await self.store.compact(self.doc_id, merge)
        self.stats.compactions += 1
        for update, why in left_out:  # the snapshot no longer holds them: keep the originals
            self.stats.updates_quarantined += 1
            self._quarantined.append((update, why))
        if self._quarantined:
            await self._keep_quarantined()

    def close_all(self, code: int, reason: str) -> None:
        for conn in list(self.connections):
            conn.close(code, reason)

    # ---- one connection --------------------------------------------------------------------

    async def serve(self, conn: Connection) -> None:
        """Run one client until it leaves or is closed. Bad frames close only this client."""
        self.connections.add(conn)
        delivered = False  # frames come to `_deliver` as they arrive, once the doc is built
        try:
            if self.ready.is_set():
                conn.send(protocol.sync_step1(self.doc.get_state()))
            else:
                self._step1_waiting.append(conn)  # our state vector is known once built
            self.presence.welcome(conn)
            while not conn.closing:
                if not delivered and self.ready.is_set():
                    delivered = conn.channel.deliver_to(functools.partial(self._deliver, conn),
                                                        self._delivered)
                message = await conn.channel.recv()
                if not self.ready.is_set():
                    if self._handle_early(conn, message):
                        continue
                    await self.built()
                    if self.failed:
                        return
                self.handle(conn, message)
        except ChannelClosed:
            pass
        except ProtocolError as exc:
            self.stats.frames_rejected += 1
            log.warning("doc %s %s: closing (%s): %s", self.doc_id, conn.label, int(exc.code),
                        exc.reason)
            conn.close(exc.code, exc.reason)
        finally:
            if delivered:
                conn.channel.deliver_to(None)
            self.connections.discard(conn)
            self.receiver.leave(conn)
            self.presence.leave(conn)
            await conn.finish(timeout=5)

    def _deliver(self, conn: Connection, message: bytes) -> None:
        """A frame as it arrives (see `Channel.deliver_to`); what it raises, `recv` raises in
        `serve`. What it changes is persisted once the frames that came with it are applied."""
        if not conn.closing:
            self._holding = True
            self.handle(conn, message)

    def _delivered(self) -> None:
        """The frames that arrived together are applied: store and send them on as one."""
        self._holding = False
        self.committer.persist_soon()

    def _handle_early(self, conn: Connection, message: bytes) -> bool:
        """While the doc is being built: answer a fresh client's sync request with the stored
        state as it is (all of it persisted, nothing to decode), then build the doc once that
        answer is out; take awareness. True if the frame was handled."""
        if not self._early_answers():
            return False
        boot = self._boot
        assert boot is not None  # _early_answers() said so
        frame = protocol.parse_frame(message)
        if frame.kind is Kind.SYNC_STEP1 and frame.payload == EMPTY_STATE_VECTOR:
            if not conn.syncs.take():
                raise ProtocolError("too many sync requests; slow down", CloseCode.POLICY)
            self.stats.bytes_in += len(message)
            conn.send(protocol.sync_step2(boot))
            conn.when_flushed(self._build_now.set)
            return True
        if frame.kind is Kind.AWARENESS or frame.kind is Kind.QUERY_AWARENESS:
            self.handle(conn, message)
            return True
        return False

    def _early_answers(self) -> bool:
        """Whether fresh clients are answered from the stored bytes while the doc is built."""
        return self._boot is not None and len(self._boot) >= EARLY_ANSWER_BYTES

    def handle(self, conn: Connection, message: bytes) -> None:
        """Apply one frame from `conn` (crdt/receiver.py). Raises ProtocolError for frames we
        refuse."""
        self.receiver.handle(conn, message)

    # ---- document changes ------------------------------------------------------------------

    def apply(self, update: bytes, origin: Origin) -> None:
        """Apply an update from `origin`; it is persisted, then broadcast, before this returns
        when the store can commit at once, else by the room's flusher task."""
        if update == b"\x00\x00":
            return
        if origin == RELAY:
            safe, why = self.gate.check_trusted(update)
            if why:
                self.stats.updates_quarantined += 1
                log.error("doc %s: a relayed or stored update cannot be read safely (%s)",
                          self.doc_id, why)
            if safe is None:
                return
            update = safe
        self._applying = True
        try:
            self._apply(update, origin)
        finally:
            self._applying = False
            if not self._holding:
                self.committer.persist_soon()

    def _apply(self, update: bytes, origin: Origin) -> None:
        self._origin = origin
        try:
            self.doc.apply_update(update)
        except ValueError as exc:  # refused while decoding: nothing was applied
            raise ProtocolError("update rejected by the CRDT decoder") from exc
        except FATAL:
            raise
        except BaseException as exc:  # RuntimeError, and pyo3 panics (a BaseException)
            # Refused part-way: the in-memory doc may hold half of it. Only what was committed
            # is trusted, so the room is discarded and everyone resyncs from the store; the
            # sender is closed for good (its update would fail again).
            log.error("doc %s: an update failed part-way (%r); discarding the room",
                      self.doc_id, exc)
            if isinstance(origin, Connection):
                origin.close(CloseCode.INVALID_UPDATE, "this update cannot be applied")
            self.fail()
            raise ProtocolError("update could not be applied", CloseCode.INVALID_UPDATE) from exc
        finally:
            self._origin = SERVER
        if self._misattributed:
            # a signed-in person wrote a comment under another name: put theirs on it, as a
            # server change that everyone receives
            items, self._misattributed = self._misattributed, []
            assert isinstance(origin, Connection) and origin.verified_name
            with self.doc.transaction():
                comments.set_author_names(items, origin.verified_name, username=origin.username)

    def _on_comments(self, events: Any, *_: Any) -> None:
        origin = self._origin
        if isinstance(origin, Connection) and origin.verified_name:
            self._misattributed += comments.misattributed(events, origin.verified_name,
                                                          username=origin.username)
        for observer in self.comment_observers:
            observer(events, self._comments, origin)

    def _on_doc_update(self, event: Any) -> None:
        # Fires synchronously inside apply_update (or a server transaction) with the effective
        # diff; duplicates fire nothing, so nothing is stored or sent twice.
        update = event.update
        origin = self._origin
        self._learn(update)
        self.suggestions.follow(update)
        self.size += len(update)
        self.committer.add(origin, update, soon=not self._applying)
        self.stats.updates_applied += 1
        for observer in self.update_observers:
            observer(update, origin)

    def _learn(self, update: bytes) -> None:
        """Let the gate place what the doc just integrated."""
        try:
            self.gate.learn(update)
        except UpdateError as exc:  # pycrdt's own encoding: never expected
            log.error("doc %s: cannot place an integrated update: %s", self.doc_id, exc.reason)


    def fail(self) -> None:
        """The store refused a commit: drop every client (they keep their edits and resync)."""
        self.failed = True
        self.closing = True
        self.committer.clear()
        self.close_all(CloseCode.TRY_AGAIN_LATER, "storage unavailable, reconnect to resync")


    # ---- presence (crdt/presence.py) --------------------------------------------------------

    @property
    def awareness(self) -> Awareness:
        return self.presence.awareness

    @property
    def relay_awareness_ids(self) -> set[int]:
        return self.presence.relayed_ids

    def apply_relayed_awareness(self, payload: bytes) -> None:
        self.presence.apply_relayed(payload)

    def local_presence(self) -> bytes | None:
        return self.presence.local()

    def expire_relayed_awareness(self, max_age_ms: int) -> None:
        self.presence.expire_relayed(max_age_ms)
