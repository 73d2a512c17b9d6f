"""One open document: its Doc, its Awareness and the connections editing it.

Every change carries an origin — a client `Connection`, `SERVER` (a change made by Quire itself:
REST, restore, import) or `RELAY` (from another server process). The origin decides, in
`_flush`, what is stored (clients and server, not relay: the other process stored it) and who
receives the broadcast (everyone but the connection that sent it).

Durability rule: an update is committed to the store before any other client can see it — both
broadcasts and sync-step-2 replies to newcomers wait for the commit that covers them.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable
from typing import Any

from pycrdt import Awareness, Doc, Map, merge_updates

from crdt import comments, protocol
from crdt.authors import Owners
from crdt.connection import Connection
from crdt.gate import Decision, Gate
from crdt.limits import PresenceLimits
from crdt.ports import ChannelClosed, Relay, RelayKind, UpdateStore
from crdt.protocol import CloseCode, Kind, ProtocolError
from crdt.stats import Stats
from crdt.suggestion_check import SuggestionCheck
from crdt.suggestions import correct_authors
from crdt.update_format import UpdateError, sanitize

log = logging.getLogger("quire.room")

# never swallowed; everything else pycrdt raises (pyo3 panics are BaseExceptions) is handled
FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)

EMPTY_STATE_VECTOR = b"\x00"
SERVER = "server"
RELAY = "relay"
Origin = Connection | str
# Presence entries a newcomer may send back beyond what it was sent (see `_take_awareness`):
# room for its other tabs' states arriving through BroadcastChannel before ours do.
ECHO_GRANT = 64

def merge_to_state(updates: list[bytes],
                   left_out: list[tuple[bytes, str]] | None = None,
                   screened: bytes | None = None) -> bytes:
    """Combine stored updates into one equivalent update, garbage-collected (used by
    compaction). What pycrdt could not read safely is left out (see `sanitize`) and listed
    in `left_out` (the original bytes and why), for the caller to quarantine. A part whose
    digest (`digest`) is `screened` was read safely already and is not read again."""
    doc: Doc[Any] = Doc()
    with doc.transaction():
        for update in updates:
            if screened is not None and digest(update) == screened:
                doc.apply_update(update)
                continue
            clean, why = sanitize(update)
            if why:
                log.error("compaction left out (part of) a stored update: %s", why)
                if left_out is not None:
                    left_out.append((update, why))
            if clean is not None:
                doc.apply_update(clean)
    return doc.get_update()


def digest(data: bytes) -> bytes:
    """A short fingerprint of stored bytes (to know a snapshot again without keeping it)."""
    return hashlib.blake2b(data, digest_size=16).digest()


# A client's updates that depend on changes this server does not have yet are held (not given to
# pycrdt) until those arrive, up to this many per connection; then it is asked to resync.
MAX_HELD_UPDATES = 64
MAX_HELD_BYTES = 1024 * 1024


# A stored state at least this big is sent to a fresh client as it is, and the doc is built only
# once that answer is out (building holds the GIL: it would hold the answer back).
EARLY_ANSWER_BYTES = 64 * 1024
# A stored state up to this size is placed and built on the event loop (a thread hop costs
# more); a bigger one in a worker thread (the gate reads about a byte per microsecond).
INLINE_BUILD_BYTES = 16 * 1024
# Without anything asking for it sooner, a booting room builds its doc after this long.
BUILD_AFTER = 0.2


class Flag:
    """A one-way asyncio flag: like asyncio.Event, but it holds no waiter queue until someone
    waits (a server holds thousands of rooms; an Event costs about 0.7 KiB)."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None

    async def wait(self) -> None:
        if self._set:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)  # one waiter's cancellation leaves the others


class RoomFailed(Exception):
    """The room lost its store and was discarded; connect again to get a fresh one."""


class Room:
    # a server holds thousands of rooms: no per-instance dict
    __slots__ = (
        "doc_id", "max_bytes", "size", "store", "stats", "compact_every", "doc", "awareness",
        "connections", "closing", "failed", "update_observers", "comment_observers", "keepalive", "relay",
        "relay_awareness_ids", "ready", "_misattributed", "_origin", "_pending", "_deferred",
        "_applied_seq", "_persisted_seq", "_since_compact", "_flusher", "_builder",
        "_awareness_dirty", "_awareness_local", "_awareness_scheduled", "_boot", "_build_now",
        "_step1_waiting", "_comments", "_applying", "_holding", "_presence_owners",
        "_presence_bytes", "gate", "suggestions", "_held", "_stored", "_quarantined", "_screened", "limits",
        "_awareness_sent", "owners", "__weakref__",
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
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)  # the server is not a user
        self.awareness.observe(self._on_awareness)
        self.connections: set[Connection] = set()
        self.closing = False  # no new joins; the registry loads a fresh room instead
        self.failed = False
        self.update_observers: list[Callable[[bytes, Origin], None]] = []
        # told of every change to the comment threads (deep events of "comments"), in the
        # transaction: they may only read
        self.comment_observers: list[Callable[[list[Any], Map[Any], Origin], None]] = []
        self.keepalive: list[Any] = []  # observers others attached to this room's doc
        self._misattributed: list[Any] = []
        self._origin: Origin = SERVER
        self._pending: list[tuple[Origin, bytes]] = []
        self._deferred: list[tuple[int, Connection, bytes]] = []
        self._applied_seq = 0
        self._persisted_seq = 0
        self._since_compact = 0
        self._flusher: asyncio.Task[None] | None = None  # runs only while there is something to store
        self._applying = False  # inside `apply`: it persists what it applied itself
        self._holding = False  # frames that arrived together are being applied: persist after
        self._builder: asyncio.Task[None] | None = None
        self._awareness_dirty: set[int] = set()
        self._awareness_local: set[int] = set()  # changed by our own clients: published
        self.relay_awareness_ids: set[int] = set()  # states that came from other processes
        self._presence_owners: dict[int, Connection] = {}  # client id -> its connection
        self._presence_bytes: dict[int, tuple[int, bytes]] = {}  # id -> (clock, entry)
        self._awareness_sent = 0  # entries broadcast to every connection so far
        self.relay: Relay | None = None
        self._awareness_scheduled = False
        self._boot: bytes | None = None  # the stored state, while the doc is being built
        self._build_now = Flag()  # something needs the doc: build it now
        self._step1_waiting: list[Connection] = []  # joined while booting: step 1 once built
        self.ready = Flag()  # the doc is built
        self.gate = Gate()  # judges every update against the document (crdt/gate.py)
        self.suggestions = SuggestionCheck()  # a commenter's text: suggestions only
        self.owners = Owners(self.doc)  # whose each Yjs client id is (crdt/authors.py)
        self._held: dict[Connection, list[bytes]] = {}  # updates waiting for what they need
        self._stored: list[bytes] | None = None  # the stored updates, until the doc is built
        self._quarantined: list[tuple[bytes, str]] = []  # stored updates loading left out
        self._screened: bytes | None = None  # digest of the stored snapshot known to be sound

    # ---- lifecycle -------------------------------------------------------------------------

    async def fetch(self) -> None:
        """Read the stored updates (snapshot + tail) and merge them, in a worker thread.

        When this state is big, fresh clients are sent it as it is (all of it is persisted)
        before the doc is built: see `_handle_early`. Stored updates are screened before pycrdt
        reads them (`_screen`): here when several are merged, else when the doc is built."""
        updates = await self.store.load(self.doc_id)
        self.size = sum(len(u) for u in updates)
        self._since_compact = max(0, len(updates) - 1)
        if not updates:
            self._boot = b"\x00\x00"
        elif len(updates) == 1:
            self._boot = updates[0]
            self._stored = updates
        else:
            self._boot = await asyncio.to_thread(self._screen_and_merge, updates)

    def _screen_and_merge(self, updates: list[bytes]) -> bytes:
        """(Worker thread.) The stored updates, screened, merged into one."""
        clean = self._screen(updates)
        if not clean:
            return b"\x00\x00"
        return clean[0] if len(clean) == 1 else merge_updates(*clean)

    def _screen(self, updates: list[bytes]) -> list[bytes]:
        """Stored updates made safe for pycrdt (`update_format.sanitize`): an unreadable one is
        left out, one holding values nested too deep is repaired (those items collected); the
        originals are quarantined by the store and reported (log, /metrics). The first (the
        snapshot, when there is one) is remembered as screened for compaction if it was sound."""
        self._screened = None
        clean: list[bytes] = []
        for n, update in enumerate(updates):
            safe, why = sanitize(update)
            if why:
                self._quarantine(update, why)
            elif n == 0:
                self._screened = digest(update)
            if safe is not None:
                clean.append(safe)
        return clean

    def _quarantine(self, update: bytes, why: str) -> None:
        self.stats.updates_quarantined += 1
        log.error("doc %s: a stored update (%d bytes) cannot be read safely (%s): quarantined",
                  self.doc_id, len(update), why)
        self._quarantined.append((update, why))

    def _load_state(self, boot: bytes) -> None:
        """Screen the stored state, place its items in the gate (collecting shared types nested
        too deep), then let pycrdt build the doc from it. (In a worker thread for a big doc.)"""
        if self._stored is not None:  # one stored update: not screened yet
            clean = self._screen(self._stored)
            boot = clean[0] if clean else b"\x00\x00"
        boot, why = self.gate.load(boot)
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
        for task in (self._builder, self._flusher):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass

    async def drain(self) -> None:
        """Wait until everything applied so far is persisted (or the room failed)."""
        await self.built()
        while (self._pending or self._flusher is not None) and not self.failed:
            self._schedule_flush()
            if self._flusher is not None:
                await asyncio.shield(self._flusher)

    def _schedule_flush(self) -> None:
        if self._flusher is None and self._pending and not self.failed:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_all())

    async def _flush_all(self) -> None:
        """Persist and broadcast until nothing is pending (the task then ends)."""
        try:
            while self._pending and not self.failed:
                await self._flush()
        finally:
            self._flusher = None

    async def compact(self) -> None:
        self._since_compact = 0
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
            conn.echo_spent = 2 * self._awareness_sent - ECHO_GRANT
            self._send_presence(conn)
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
            self._held.pop(conn, None)
            if self.suggestions.active and not any(
                    other.role == "commenter" for other in self.connections):
                self.suggestions.drop()
            if conn.awareness_ids:
                self.awareness.remove_awareness_states(sorted(conn.awareness_ids), conn)
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
        self._persist_soon()

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
        """Apply one frame from `conn`. Raises ProtocolError for frames we refuse."""
        frame = protocol.parse_frame(message)
        self.stats.bytes_in += len(message)
        if frame.kind is Kind.SYNC_STEP1:
            # each one costs an encoding of everything the client lacks (often the whole doc)
            if not conn.syncs.take():
                raise ProtocolError("too many sync requests; slow down", CloseCode.POLICY)
            try:
                update = self.doc.get_update(frame.payload)
            except FATAL:
                raise
            except BaseException as exc:  # ValueError, and pyo3 panics (a BaseException)
                raise ProtocolError("malformed state vector") from exc
            self._send_when_persisted(conn, protocol.sync_step2(update))
        elif frame.kind is Kind.SYNC_STEP2 or frame.kind is Kind.SYNC_UPDATE:
            self._apply_from(conn, frame.payload)
        elif frame.kind is Kind.AWARENESS:
            self._take_awareness(conn, frame.payload)
        elif frame.kind is Kind.QUERY_AWARENESS:
            if not conn.take_query_token():
                raise ProtocolError("too many presence queries; slow down", CloseCode.POLICY)
            self._send_presence(conn, empty=True)

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        """A client's update, if it is sound and its role allows it; refused updates never
        touch the doc (crdt/gate.py, crdt/judge.py)."""
        if update == b"\x00\x00":
            return
        if not conn.take_update_token():
            raise ProtocolError("too many updates; slow down", CloseCode.POLICY)
        try:
            checked = self.gate.check(update, role=conn.role, who=conn.account)
        except UpdateError as exc:
            raise ProtocolError(f"update refused: {exc.reason}", CloseCode.INVALID_DATA
                                if exc.malformed else CloseCode.INVALID_UPDATE) from exc
        if checked.decision is Decision.HOLD:
            self._hold(conn, update)
            return
        if checked.decision is Decision.REFUSE:
            self._refuse(conn, checked.reason)
            return
        if checked.decision is Decision.IGNORE:
            return
        update = checked.update
        if self.size + len(update) > self.max_bytes:
            raise ProtocolError("the document reached its size limit",
                                CloseCode.DOCUMENT_TOO_LARGE)
        if not self._suggestions_ok(conn, checked) or not self._authorship_ok(conn, checked):
            return
        self.apply(update, conn)
        self._correct_suggestions(conn, checked)
        self._record_authors(conn, checked)
        if self._held:
            self._release_held()

    def _suggestions_ok(self, conn: Connection, checked: Any) -> bool:
        """A commenter's change to the text passes only as their own suggestions (refused
        otherwise, the connection staying open)."""
        if not checked.suggest or conn.account is None:
            return True
        reason = self.suggestions.check(self.doc, checked.update, conn.account)
        if reason is None:
            return True
        self._refuse(conn, reason)
        return False

    def _correct_suggestions(self, conn: Connection, checked: Any) -> None:
        """An editor's suggestions made under another account get the sender's: a server
        change everyone receives."""
        if checked.misattributed and conn.account is not None:
            correct_authors(self.doc, set(checked.misattributed), conn.account)

    def _authorship_ok(self, conn: Connection, checked: Any) -> bool:
        """Nobody writes under a Yjs client id recorded as another account's (refused, the
        connection staying open): what the text says of its authors stays true."""
        if not checked.clients or conn.account is None:
            return True
        if self.owners.claimed_by_other(checked.clients, conn.account) is None:
            return True
        self._refuse(conn, "the update writes under another person's Yjs client id")
        return False

    def _record_authors(self, conn: Connection, checked: Any) -> None:
        """The first update of a client id makes it the sender's (crdt/authors.py): a server
        change everyone receives."""
        if checked.clients and conn.account is not None:
            self.owners.record(checked.clients, conn.account, conn.verified_name)

    def _refuse(self, conn: Connection, reason: str) -> None:
        self.stats.updates_refused += 1
        if not conn.denied:
            conn.denied = True
            conn.send(protocol.permission_denied(reason))
        log.info("doc %s %s: refused a %s's update: %s", self.doc_id, conn.label, conn.role,
                 reason)

    def _hold(self, conn: Connection, update: bytes) -> None:
        """Keep a writer's update that needs changes this server has not seen yet (typing
        while its reconnection's sync is under way) until they arrive; past a bound, ask the
        client to resync."""
        held = self._held.setdefault(conn, [])
        held.append(update)
        if len(held) > MAX_HELD_UPDATES or sum(map(len, held)) > MAX_HELD_BYTES:
            del self._held[conn]
            raise ProtocolError("updates depend on changes this server does not have; resync",
                                CloseCode.TRY_AGAIN_LATER)

    def _release_held(self) -> None:
        """Apply held updates that can now be integrated, in arrival order per connection."""
        progress = True
        while progress and self._held:
            progress = False
            for conn in list(self._held):
                waiting = self._held.get(conn) or []
                while waiting and conn in self.connections and not conn.closing:
                    try:
                        checked = self.gate.check(waiting[0], role=conn.role, who=conn.account)
                    except UpdateError:
                        checked = None
                    if checked is not None and checked.decision is Decision.HOLD:
                        break
                    waiting.pop(0)
                    if checked is None or checked.decision is Decision.IGNORE:
                        continue
                    if checked.decision is Decision.REFUSE:
                        self._refuse(conn, checked.reason)
                        continue
                    if (not self._suggestions_ok(conn, checked)
                            or not self._authorship_ok(conn, checked)):
                        continue
                    self.apply(checked.update, conn)
                    self._correct_suggestions(conn, checked)
                    self._record_authors(conn, checked)
                    progress = True
                if not waiting or conn not in self.connections or conn.closing:
                    self._held.pop(conn, None)

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
                self._persist_soon()

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
        self._pending.append((origin, update))
        self._applied_seq += 1
        self.stats.updates_applied += 1
        if not self._applying:
            self._schedule_flush()
        for observer in self.update_observers:
            observer(update, origin)

    def _learn(self, update: bytes) -> None:
        """Let the gate place what the doc just integrated."""
        try:
            self.gate.learn(update)
        except UpdateError as exc:  # pycrdt's own encoding: never expected
            log.error("doc %s: cannot place an integrated update: %s", self.doc_id, exc.reason)

    def _send_when_persisted(self, conn: Connection, message: bytes) -> None:
        if self._persisted_seq >= self._applied_seq:
            conn.send(message)
        else:
            self._deferred.append((self._applied_seq, conn, message))

    def _persist_soon(self) -> None:
        """Persist and broadcast what is pending: at once if the store can commit without
        waiting (one keystroke then reaches everyone within the frame that carried it),
        otherwise in the flusher task. Either way nobody sees an update before it is stored."""
        if self._flusher is not None or not self._pending or self.failed:
            return  # a running flusher takes whatever is pending when its commit is done
        if self._since_compact + len(self._pending) < self.compact_every:
            to_store = [update for origin, update in self._pending if origin != RELAY]
            started = time.perf_counter()
            try:
                stored = not to_store or self.store.append_now(self.doc_id, to_store)
            except Exception:
                self._persist_failed(len(to_store))
                return
            if stored:
                batch, self._pending = self._pending, []
                self._persisted(batch, self._applied_seq, to_store, started,
                                self._confirm_state(batch))
                return
        self._schedule_flush()

    async def _flush(self) -> None:
        batch, self._pending = self._pending, []
        seq = self._applied_seq
        to_store = [update for origin, update in batch if origin != RELAY]
        state = self._confirm_state(batch)  # what this batch covers, before more is applied
        started = time.perf_counter()
        if to_store:
            try:
                await self.store.append(self.doc_id, to_store)
            except Exception:
                self._persist_failed(len(to_store))
                return
        self._persisted(batch, seq, to_store, started, state)
        if self._since_compact >= self.compact_every:
            try:
                await self.compact()
            except Exception:
                log.exception("doc %s: compaction failed (the log is intact)", self.doc_id)

    def _persist_failed(self, count: int) -> None:
        self.stats.persist_failures += 1
        log.exception("doc %s: persisting %d updates failed; discarding the room so clients "
                      "resync from the store", self.doc_id, count)
        self.fail()

    def _confirm_state(self, batch: list[tuple[Origin, bytes]]) -> bytes | None:
        """The state vector to confirm as persisted, if a sender in `batch` asked for that."""
        if any(isinstance(o, Connection) and o.wants_persisted for o, _ in batch):
            return self.doc.get_state()
        return None

    def _persisted(self, batch: list[tuple[Origin, bytes]], seq: int, to_store: list[bytes],
                   started: float, state: bytes | None) -> None:
        """`batch` (applied up to `seq`, covering `state`) is durable: tell everyone."""
        if to_store:
            self.stats.observe_persist(time.perf_counter() - started)
            self.stats.updates_persisted += len(to_store)
        self._persisted_seq = seq
        self._broadcast(batch)
        if self.relay is not None and to_store:
            # published only once durable, so another process can always catch up from the
            # database whatever it missed on the wire
            self.relay.publish(self.doc_id, RelayKind.UPDATE,
                               to_store[0] if len(to_store) == 1 else merge_updates(*to_store))
        if state is not None:
            message = protocol.persisted_message(state)
            for conn in {o for o, _ in batch if isinstance(o, Connection) and o.wants_persisted}:
                conn.send(message)
        self._release_deferred()
        self._since_compact += len(to_store)

    def _broadcast(self, batch: list[tuple[Origin, bytes]]) -> None:
        origins = {origin for origin, _ in batch}
        everyone = self._frame([u for _, u in batch])
        for conn in self.connections:
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
        if not self._deferred:
            return
        ready = [d for d in self._deferred if d[0] <= self._persisted_seq]
        self._deferred = [d for d in self._deferred if d[0] > self._persisted_seq]
        for _, conn, message in ready:
            conn.send(message)

    def fail(self) -> None:
        """The store refused a commit: drop every client (they keep their edits and resync)."""
        self.failed = True
        self.closing = True
        self._pending.clear()
        self._deferred.clear()
        self.close_all(CloseCode.TRY_AGAIN_LATER, "storage unavailable, reconnect to resync")

    # ---- awareness -------------------------------------------------------------------------

    def _take_awareness(self, conn: Connection, payload: bytes) -> None:
        """A client's awareness update, within its limits (`crdt/limits.py`); a frame beyond
        them raises ProtocolError, one beyond the presence rate is dropped (a state is whole:
        the next one repairs it).

        Echoes: browsers send back every presence change they receive (at the same clock: it
        changes nothing) and later a removal of each state they stopped hearing from, so a
        connection may send back up to twice the entries it was sent (`_awareness_sent`), and
        no frame more than the room ever knew plus `states_per_frame`. Skipping echoes unread
        is cheap, not free: this keeps a flood of them from costing more than the room's own
        traffic."""
        limits = conn.limits
        if not conn.presence.ready():
            self.stats.awareness_dropped += 1
            if not conn.presence_dropped:
                conn.presence_dropped = True
                log.warning("doc %s %s: presence above its rate; dropping the excess",
                            self.doc_id, conn.label)
            return
        awareness = self.awareness
        entries, every, count, states = protocol.read_awareness(
            payload, awareness,
            max_entries=min(2 * self._awareness_sent - conn.echo_spent, len(awareness.meta))
            + limits.states_per_frame,
            max_states=limits.states_per_frame, max_state_bytes=limits.state_bytes)
        conn.echo_spent += count - states
        if not entries:
            return  # changes nothing (typically a browser sending back what it received)
        conn.presence.spend()
        owned = conn.awareness_ids
        taking = new = 0
        for client_id, _, state in entries:
            if state is not None and client_id not in owned:
                taking += 1
                new += client_id not in awareness.meta
        if taking and (len(owned) + taking > limits.ids_per_connection
                       or (new and not conn.new_ids.take(new))):
            raise ProtocolError("too many presence client ids on one connection",
                                CloseCode.POLICY)
        payload = payload if every else protocol.encode_awareness_update(entries)
        payload = protocol.with_user_name(payload, entries, conn.verified_name, conn.username)
        awareness.apply_awareness_update(payload, conn)

    def _send_presence(self, conn: Connection, *, empty: bool = False) -> None:
        """Send `conn` every presence state (an empty frame too, with `empty`); it may send
        them all back (see `_take_awareness`)."""
        ids = list(self.awareness.states)
        conn.echo_spent -= 2 * len(ids)
        if ids or empty:
            conn.send(self._awareness_frame(ids))

    def _on_awareness(self, topic: str, payload: tuple[dict[str, list[int]], Any]) -> None:
        if topic != "update":
            return
        changes, origin = payload
        self._track_presence(changes, origin)
        changed = (*changes["added"], *changes["updated"], *changes["removed"])
        self._awareness_dirty.update(changed)
        if origin == RELAY:
            self.relay_awareness_ids.update(changes["added"], changes["updated"])
            self.relay_awareness_ids.difference_update(changes["removed"])
        else:
            self._awareness_local.update(changed)
        if not self._awareness_scheduled:
            # Coalesce: everything that changed in this loop iteration goes out as one frame.
            self._awareness_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_awareness)

    def _track_presence(self, changes: dict[str, list[int]], origin: Any) -> None:
        """A client's presence belongs to the connection whose update last changed it (the one
        removed when that connection closes). Browsers send back every change they receive, at
        the same clock: such echoes change nothing, so they take nothing over."""
        owners = self._presence_owners
        if isinstance(origin, Connection):
            for client_id in (*changes["added"], *changes["updated"]):
                owner = owners.get(client_id)
                if owner is not origin:
                    if owner is not None:
                        owner.awareness_ids.discard(client_id)
                    owners[client_id] = origin
                    origin.awareness_ids.add(client_id)
        for client_id in changes["removed"]:
            self._presence_bytes.pop(client_id, None)
            owner = owners.pop(client_id, None)
            if owner is not None:
                owner.awareness_ids.discard(client_id)

    def _flush_awareness(self) -> None:
        self._awareness_scheduled = False
        ids, self._awareness_dirty = sorted(self._awareness_dirty), set()
        local, self._awareness_local = sorted(self._awareness_local), set()
        if self.relay is not None and local:
            self.relay.publish(self.doc_id, RelayKind.AWARENESS, self._awareness_update(local))
        if not ids or not self.connections:
            return
        frame = self._awareness_frame(ids)
        self._awareness_sent += len(ids)
        for conn in self.connections:
            conn.send(frame)

    def apply_relayed_awareness(self, payload: bytes) -> None:
        """Awareness from another process: shown to our clients, not published again. Bounded
        like a client's, more generously: a process relays many clients at once."""
        protocol.validate_awareness(payload, max_entries=self.limits.relay_states,
                                    max_state_bytes=self.limits.relay_state_bytes)
        self.awareness.apply_awareness_update(payload, RELAY)

    def local_presence(self) -> bytes | None:
        """The presence of this process's own clients (not what other processes relayed), as
        one awareness update: the answer to another process that just opened the document."""
        relayed = self.relay_awareness_ids
        ids = sorted(cid for cid in self.awareness.states if cid not in relayed)
        return self._awareness_update(ids) if ids else None

    def expire_relayed_awareness(self, max_age_ms: int) -> None:
        """Forget other processes' client states not renewed for `max_age_ms` (y-websocket
        clients renew every 15 s), so a process that died leaves no ghost cursors."""
        now = int(time.time() * 1000)
        stale = [cid for cid in self.relay_awareness_ids
                 if now - self.awareness.meta.get(cid, {}).get("lastUpdated", 0) > max_age_ms]
        if stale:
            self.awareness.remove_awareness_states(stale, RELAY)

    def _awareness_update(self, client_ids: list[int]) -> bytes:
        # Every newcomer is sent every state: each one is encoded once per clock, not per join.
        meta, states, cache = self.awareness.meta, self.awareness.states, self._presence_bytes
        encoded = []
        for client_id in client_ids:
            clock = int(meta.get(client_id, {}).get("clock", 0))
            hit = cache.get(client_id)
            if hit is None or hit[0] != clock:
                state = states.get(client_id)
                hit = (clock, protocol.encode_awareness_entry(client_id, clock, state))
                if state is not None:
                    cache[client_id] = hit
            encoded.append(hit[1])
        return protocol.join_awareness_entries(encoded)

    def _awareness_frame(self, client_ids: list[int]) -> bytes:
        return protocol.awareness_message(self._awareness_update(client_ids))

