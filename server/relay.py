"""Redis relay: processes that have a document open share its updates and awareness.

A process subscribes to `<prefix>doc:<id>` while it holds that document's room, and
unsubscribes once the room is gone, so its Redis traffic follows its own documents, not the
whole company's typing. A message is published only after the update is committed to the
shared database, so the database is the source of truth and Redis only makes it fast. Pub/sub
can lose messages (a reconnect, a slow subscriber), so:
- each process numbers its messages per document; a receiver that sees a gap in a sender's
  numbers catches that document up from the database;
- once Redis confirms a subscription (a room loaded, or a reconnect), the process catches that
  document up from the database (anything committed before the confirmation is there; anything
  after is delivered) and asks the processes holding it for their presence (QUERY_AWARENESS),
  which they answer with their own clients' states: a newcomer sees everyone at once, not at
  their next renewal;
- awareness states from other processes expire if not renewed (a dead process leaves no ghosts).
Updates applied from the relay carry the RELAY origin: broadcast locally, never stored again.

Frame on the wire: b"Q1" | kind (1) | sender id (16) | seq (8) | sent_ms (8) | payload.

Besides documents, processes tell each other when access changed (a share revoked, a session
signed out: see server/liveaccess.py) on the channel `<prefix>control`, in the same frame with
kind CONTROL and a small JSON payload. Those are not numbered per document; a lost one is made
up for by the periodic re-check, and after a reconnect every handler is told to re-check all.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import uuid
from collections import OrderedDict

import redis.asyncio as redis

from crdt.ports import RelayKind, UpdateStore
from crdt.protocol import ProtocolError
from crdt.room import RELAY, Room
from crdt.rooms import Rooms

log = logging.getLogger("quire.relay")
HEADER = struct.Struct(">2sB16sQQ")
MAGIC = b"Q1"
CONTROL = 0x43  # frame kind of control messages (document kinds are crdt.ports.RelayKind)
RESYNC = b'{"all": true}'  # what handlers hear after a reconnect: messages may have been lost


class RelayStats:
    def __init__(self) -> None:
        self.published = 0
        self.publish_errors = 0
        self.received = 0
        self.applied = 0
        self.catchups = 0
        self.gaps = 0
        self.reconnects = 0
        self.subscribed = 0  # documents whose channel this process listens to
        self.lag_observers: list = []


class RedisRelay:
    def __init__(self, url: str, rooms: Rooms, store: UpdateStore, *, prefix: str = "quire:",
                 awareness_timeout_ms: int = 30_000) -> None:
        self.url = url
        self.rooms = rooms
        self.store = store
        self.prefix = prefix
        self.awareness_timeout_ms = awareness_timeout_ms
        self.node = uuid.uuid4().bytes
        self.stats = RelayStats()
        self.connected = False
        self._seq: dict[str, int] = {}
        self._seen: OrderedDict[tuple[bytes, str], int] = OrderedDict()
        self._outbox: list[tuple[str | None, int, bytes]] = []
        self._control_seq = 0
        self.control_handlers: list = []  # called with each control payload from others
        self._wake = asyncio.Event()
        self._catchup: set[str] = set()
        self._catchup_wake = asyncio.Event()
        self._client: redis.Redis | None = None
        self._subscribed: set[str] = set()  # documents subscribed on the current connection
        self._subscriptions_changed = True

    def channel(self, doc_id: str) -> str:
        return f"{self.prefix}doc:{doc_id}"

    @property
    def control_channel(self) -> str:
        return f"{self.prefix}control"

    # ---- wiring ----------------------------------------------------------------------------

    def watch(self, room: Room) -> None:
        """A room was loaded here: publish its changes, and subscribe to its channel (then catch
        it up and ask for presence: see `_subscribed_to`)."""
        room.relay = self
        if room.doc_id in self._subscribed:  # still listening since it was last open here
            self._subscribed_to(room.doc_id)
        else:
            self._subscriptions_changed = True

    def publish(self, doc_id: str, kind: RelayKind, payload: bytes) -> None:
        self._outbox.append((doc_id, kind, payload))
        self._wake.set()

    def publish_control(self, payload: bytes) -> None:
        """Tell the other processes something about access (see server/liveaccess.py)."""
        self._outbox.append((None, CONTROL, payload))
        self._wake.set()

    def request_catchup(self, doc_id: str) -> None:
        self._catchup.add(doc_id)
        self._catchup_wake.set()

    async def ping(self) -> bool:
        if self._client is None:
            return False
        try:
            return bool(await asyncio.wait_for(self._client.ping(), 2))
        except Exception:
            return False

    async def run(self) -> None:
        self._client = redis.Redis.from_url(self.url)
        try:
            async with asyncio.TaskGroup() as tasks:
                tasks.create_task(self._publisher())
                tasks.create_task(self._subscriber())
                tasks.create_task(self._catcher())
                tasks.create_task(self._reaper())
        finally:
            await self._client.aclose()

    # ---- publishing ------------------------------------------------------------------------

    async def _publisher(self) -> None:
        assert self._client is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._outbox = self._outbox, []
            if not batch:
                continue
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for doc_id, kind, payload in batch:
                        if doc_id is None:
                            self._control_seq += 1
                            seq, channel = self._control_seq, self.control_channel
                        else:
                            seq = self._seq.get(doc_id, 0) + 1
                            self._seq[doc_id] = seq
                            channel = self.channel(doc_id)
                        header = HEADER.pack(MAGIC, kind, self.node, seq,
                                             int(time.time() * 1000))
                        pipe.publish(channel, header + payload)
                    await pipe.execute()
                self.stats.published += len(batch)
            except Exception as exc:
                # The sequence numbers moved on, so receivers see the gap and catch up from
                # the database once Redis is back.
                self.stats.publish_errors += len(batch)
                log.warning("relay publish failed (%d messages): %r", len(batch), exc)

    # ---- subscribing -----------------------------------------------------------------------

    async def _subscriber(self) -> None:
        backoff = 0.1
        assert self._client is not None
        while True:
            # from the relay's one client: a reconnect takes a connection from its pool again
            # (closing the pubsub hands it back) instead of making a client per reconnect
            pubsub = self._client.pubsub()
            self._subscribed = set()
            self._subscriptions_changed = True
            try:
                await pubsub.subscribe(self.control_channel)
                if self.connected is False and self.stats.reconnects:
                    log.info("relay reconnected to Redis")
                    self._control(RESYNC)  # access may have changed while we were away
                self.connected = True
                backoff = 0.1
                reconciled = 0.0
                while True:
                    if self._subscriptions_changed or time.monotonic() - reconciled > 2.0:
                        await self._reconcile(pubsub)
                        reconciled = time.monotonic()
                    message = await pubsub.get_message(timeout=0.1)
                    if message is None:
                        continue
                    kind, channel = message["type"], message["channel"]
                    if kind == "message":
                        if channel == self.control_channel.encode():
                            self._receive_control(message["data"])
                        else:
                            self._receive(channel, message["data"])
                    elif kind == "subscribe" and channel != self.control_channel.encode():
                        self._subscribed_to(channel.decode()[len(self.prefix) + 4 :])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.connected:
                    log.warning("relay lost Redis: %r; reconnecting", exc)
                self.connected = False
                self.stats.reconnects += 1
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 2.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    async def _reconcile(self, pubsub) -> None:
        """Subscribe to the documents this process holds, and only those."""
        self._subscriptions_changed = False
        held = set(self.rooms.open_doc_ids())
        joining, leaving = held - self._subscribed, self._subscribed - held
        if joining:
            await pubsub.subscribe(*(self.channel(d) for d in sorted(joining)))
        if leaving:
            await pubsub.unsubscribe(*(self.channel(d) for d in sorted(leaving)))
        self._subscribed = held
        self.stats.subscribed = len(held)

    def _subscribed_to(self, doc_id: str) -> None:
        """Redis confirmed the subscription: from now on nothing published is missed, and what
        came before is in the database."""
        if doc_id not in self._subscribed:
            return
        self.request_catchup(doc_id)
        self.publish(doc_id, RelayKind.QUERY_AWARENESS, b"")

    def _receive_control(self, data: bytes) -> None:
        if len(data) < HEADER.size:
            return
        magic, kind, node, _seq, _sent_ms = HEADER.unpack_from(data)
        if magic == MAGIC and kind == CONTROL and node != self.node:
            self._control(data[HEADER.size :])

    def _control(self, payload: bytes) -> None:
        for handler in self.control_handlers:
            try:
                handler(payload)
            except Exception:
                log.exception("a relay control handler failed")

    def _receive(self, channel: bytes, data: bytes) -> None:
        if len(data) < HEADER.size:
            return
        magic, kind, node, seq, sent_ms = HEADER.unpack_from(data)
        if magic != MAGIC or node == self.node:
            return
        doc_id = channel.decode()[len(self.prefix) + 4 :]
        self.stats.received += 1
        key = (node, doc_id)
        last = self._seen.pop(key, None)
        self._seen[key] = seq
        if len(self._seen) > 100_000:
            self._seen.popitem(last=False)
        room = self.rooms.open_room(doc_id, booting=True)
        if room is None:
            return
        payload = data[HEADER.size :]
        if kind == RelayKind.QUERY_AWARENESS:  # another process just opened it: who is here?
            presence = room.local_presence()
            if presence is not None:
                self.publish(doc_id, RelayKind.AWARENESS, presence)
            return
        if kind == RelayKind.AWARENESS and not room.ready.is_set():
            self._apply_awareness(room, doc_id, payload)  # presence needs no document
            return
        if not room.ready.is_set():
            self.request_catchup(doc_id)  # it is in the database; apply once the doc is built
            return
        for observer in self.stats.lag_observers:
            observer(max(0.0, time.time() - sent_ms / 1000))
        if last is not None and seq != last + 1:
            self.stats.gaps += 1
            self.request_catchup(doc_id)
        if kind == RelayKind.AWARENESS:
            self._apply_awareness(room, doc_id, payload)
            return
        try:
            if kind == RelayKind.UPDATE:
                room.apply(payload, RELAY)
                self.stats.applied += 1
        except ProtocolError as exc:
            log.warning("doc %s: dropped a bad relay message: %s", doc_id, exc.reason)

    def _apply_awareness(self, room: Room, doc_id: str, payload: bytes) -> None:
        try:
            room.apply_relayed_awareness(payload)
            self.stats.applied += 1
        except ProtocolError as exc:
            log.warning("doc %s: dropped a bad relay message (presence): %s", doc_id, exc.reason)

    # ---- catching up -----------------------------------------------------------------------

    async def _catcher(self) -> None:
        while True:
            await self._catchup_wake.wait()
            self._catchup_wake.clear()
            docs, self._catchup = self._catchup, set()
            for doc_id in docs:
                room = self.rooms.open_room(doc_id, booting=True)
                if room is None:
                    continue
                await room.built()
                try:
                    stored = await self.store.load(doc_id)
                except Exception as exc:
                    log.warning("doc %s: catch-up from the database failed: %r", doc_id, exc)
                    self._catchup.add(doc_id)
                    await asyncio.sleep(0.5)
                    self._catchup_wake.set()
                    continue
                if room is self.rooms.open_room(doc_id):
                    for update in stored:
                        room.apply(update, RELAY)  # duplicates change nothing
                    self.stats.catchups += 1

    async def _reaper(self) -> None:
        while True:
            await asyncio.sleep(5)
            for doc_id in self.rooms.open_doc_ids():
                room = self.rooms.open_room(doc_id)
                if room is not None and room.relay_awareness_ids:
                    room.expire_relayed_awareness(self.awareness_timeout_ms)
