"""Presence (the Yjs awareness protocol) in one room: each connection's states within its limits,
coalesced into one frame per loop iteration for everyone, published to other processes, and
removed when the connection that owns them leaves (no ghost cursors)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from pycrdt import Awareness

from crdt import protocol
from crdt.connection import Connection
from crdt.origins import RELAY
from crdt.ports import RelayKind
from crdt.protocol import CloseCode, ProtocolError

if TYPE_CHECKING:
    from crdt.room import Room

log = logging.getLogger("quire.room")

# Presence entries a newcomer may send back beyond what it was sent (see `take`): room for its
# other tabs' states arriving through BroadcastChannel before ours do.
ECHO_GRANT = 64


class Presence:
    """The room's Awareness and who owns which of its states."""

    __slots__ = ("room", "awareness", "relayed_ids", "sent", "_dirty", "_local", "_new",
                 "_scheduled", "_owners", "_bytes")

    def __init__(self, room: Room) -> None:
        self.room = room
        self.awareness = Awareness(room.doc)
        self.awareness.set_local_state(None)  # the server is not a user
        self.awareness.observe(self._on_awareness)
        self.relayed_ids: set[int] = set()  # states that came from other processes
        self.sent = 0  # entries broadcast to every connection so far
        self._dirty: set[int] = set()
        self._local: set[int] = set()  # changed by our own clients: published
        self._new: set[int] = set()  # first states of our own clients (see `_flush`)
        self._scheduled = False
        self._owners: dict[int, Connection] = {}  # client id -> its connection
        self._bytes: dict[int, tuple[int, bytes]] = {}  # id -> (clock, entry)

    def welcome(self, conn: Connection) -> None:
        """A newcomer: it gets every state, and may send them all back (see `take`)."""
        conn.echo_spent = 2 * self.sent - ECHO_GRANT
        self.send_all(conn)

    def leave(self, conn: Connection) -> None:
        """`conn` left: the states it owned go, for everyone."""
        if conn.awareness_ids:
            self.awareness.remove_awareness_states(sorted(conn.awareness_ids), conn)

    def take(self, conn: Connection, payload: bytes) -> None:
        """A client's awareness update, within its limits (`crdt/limits.py`); a frame beyond
        them raises ProtocolError, one beyond the presence rate is dropped (a state is whole:
        the next one repairs it).

        Echoes: browsers send back every presence change they receive (at the same clock: it
        changes nothing) and later a removal of each state they stopped hearing from, so a
        connection may send back up to twice the entries it was sent (`sent`), and
        no frame more than the room ever knew plus `states_per_frame`. Skipping echoes unread
        is cheap, not free: this keeps a flood of them from costing more than the room's own
        traffic."""
        limits = conn.limits
        if not conn.presence.ready():
            self.room.stats.awareness_dropped += 1
            if not conn.presence_dropped:
                conn.presence_dropped = True
                log.warning("doc %s %s: presence above its rate; dropping the excess",
                            self.room.doc_id, conn.label)
            return
        awareness = self.awareness
        entries, every, count, states = protocol.read_awareness(
            payload, awareness,
            max_entries=min(2 * self.sent - conn.echo_spent, len(awareness.meta))
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

    def send_all(self, conn: Connection, *, empty: bool = False) -> None:
        """Send `conn` every presence state (an empty frame too, with `empty`); it may send
        them all back (see `take`)."""
        ids = list(self.awareness.states)
        conn.echo_spent -= 2 * len(ids)
        if ids or empty:
            conn.send(self._frame(ids))

    def _on_awareness(self, topic: str, payload: tuple[dict[str, list[int]], Any]) -> None:
        if topic != "update":
            return
        changes, origin = payload
        self._track(changes, origin)
        changed = (*changes["added"], *changes["updated"], *changes["removed"])
        self._dirty.update(changed)
        if origin == RELAY:
            self.relayed_ids.update(changes["added"], changes["updated"])
            self.relayed_ids.difference_update(changes["removed"])
        else:
            self._local.update(changed)
            if isinstance(origin, Connection):
                self._new.update(changes["added"])
        if not self._scheduled:
            # Coalesce: everything that changed in this loop iteration goes out as one frame.
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _track(self, changes: dict[str, list[int]], origin: Any) -> None:
        """A client's presence belongs to the connection whose update last changed it (the one
        removed when that connection closes). Browsers send back every change they receive, at
        the same clock: such echoes change nothing, so they take nothing over."""
        owners = self._owners
        if isinstance(origin, Connection):
            for client_id in (*changes["added"], *changes["updated"]):
                owner = owners.get(client_id)
                if owner is not origin:
                    if owner is not None:
                        owner.awareness_ids.discard(client_id)
                    owners[client_id] = origin
                    origin.awareness_ids.add(client_id)
        for client_id in changes["removed"]:
            self._bytes.pop(client_id, None)
            owner = owners.pop(client_id, None)
            if owner is not None:
                owner.awareness_ids.discard(client_id)

    def _flush(self) -> None:
        self._scheduled = False
        ids, self._dirty = sorted(self._dirty), set()
        local, self._local = sorted(self._local), set()
        new, self._new = self._new, set()
        if self.room.relay is not None and local:
            self.room.relay.publish(self.room.doc_id, RelayKind.AWARENESS, self._update(local))
        if not ids or not self.room.connections:
            return
        self.sent += len(ids)
        # A newcomer's first state is not sent back to it: a client ignores its own state at the
        # clock it set (y-protocols' applyAwarenessUpdate), and it has just been sent the
        # document. Renewals are: y-websocket's client reconnects after 30 s without a message,
        # and someone alone in a document hears nothing else (its state renews every 15 s).
        first = new.issuperset(ids)
        frame = None
        for conn in self.room.connections:
            if first and conn.awareness_ids.issuperset(ids):
                continue
            if frame is None:
                frame = self._frame(ids)
            conn.send(frame)

    def apply_relayed(self, payload: bytes) -> None:
        """Awareness from another process: shown to our clients, not published again. Bounded
        like a client's, more generously: a process relays many clients at once."""
        protocol.validate_awareness(payload, max_entries=self.room.limits.relay_states,
                                    max_state_bytes=self.room.limits.relay_state_bytes)
        self.awareness.apply_awareness_update(payload, RELAY)

    def local(self) -> bytes | None:
        """The presence of this process's own clients (not what other processes relayed), as
        one awareness update: the answer to another process that just opened the document."""
        relayed = self.relayed_ids
        ids = sorted(cid for cid in self.awareness.states if cid not in relayed)
        return self._update(ids) if ids else None

    def expire_relayed(self, max_age_ms: int) -> None:
        """Forget other processes' client states not renewed for `max_age_ms` (y-websocket
        clients renew every 15 s), so a process that died leaves no ghost cursors."""
        now = int(time.time() * 1000)
        stale = [cid for cid in self.relayed_ids
                 if now - self.awareness.meta.get(cid, {}).get("lastUpdated", 0) > max_age_ms]
        if stale:
            self.awareness.remove_awareness_states(stale, RELAY)

    def _update(self, client_ids: list[int]) -> bytes:
        # Every newcomer is sent every state: each one is encoded once per clock, not per join.
        meta, states, cache = self.awareness.meta, self.awareness.states, self._bytes
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

    def _frame(self, client_ids: list[int]) -> bytes:
        return protocol.awareness_message(self._update(client_ids))
