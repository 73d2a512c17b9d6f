"""The receiver: one frame from a client, switched on its kind and checked against the sender's
role before anything touches the document (crdt/gate.py, crdt/judge.py): sync requests answered
once what they cover is committed, updates judged (refused, held until what they need arrives,
or applied), a commenter's text only as their own suggestions, nobody's under another person's
Yjs client id (crdt/authors.py); presence handed to crdt/presence.py."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from crdt import protocol
from crdt.connection import Connection
from crdt.gate import Decision
from crdt.protocol import FATAL, CloseCode, Kind, ProtocolError
from crdt.suggestions import correct_authors
from crdt.update_format import UpdateError

if TYPE_CHECKING:
    from crdt.room import Room

log = logging.getLogger("quire.room")

# A client's updates that depend on changes this server does not have yet are held (not given to
# pycrdt) until those arrive, up to this many per connection; then it is asked to resync.
MAX_HELD_UPDATES = 64
MAX_HELD_BYTES = 1024 * 1024


class Receiver:
    """The frame switch of one room."""

    __slots__ = ("room", "held")

    def __init__(self, room: Room) -> None:
        self.room = room
        self.held: dict[Connection, list[bytes]] = {}  # updates waiting for what they need

    def leave(self, conn: Connection) -> None:
        """`conn` left: what it was waiting to apply is dropped (it resyncs if it returns)."""
        self.held.pop(conn, None)
        suggestions = self.room.suggestions
        if suggestions.active and not any(
                other.role == "commenter" for other in self.room.connections):
            suggestions.drop()

    def handle(self, conn: Connection, message: bytes) -> None:
        """Apply one frame from `conn`. Raises ProtocolError for frames we refuse."""
        frame = protocol.parse_frame(message)
        self.room.stats.bytes_in += len(message)
        if frame.kind is Kind.SYNC_STEP1:
            # each one costs an encoding of everything the client lacks (often the whole doc)
            if not conn.syncs.take():
                raise ProtocolError("too many sync requests; slow down", CloseCode.POLICY)
            try:
                update = self.room.doc.get_update(frame.payload)
            except FATAL:
                raise
            except BaseException as exc:  # ValueError, and pyo3 panics (a BaseException)
                raise ProtocolError("malformed state vector") from exc
            self.room.committer.send_when_persisted(conn, protocol.sync_step2(update))
        elif frame.kind is Kind.SYNC_STEP2 or frame.kind is Kind.SYNC_UPDATE:
            self._apply_from(conn, frame.payload)
        elif frame.kind is Kind.AWARENESS:
            self.room.presence.take(conn, frame.payload)
        elif frame.kind is Kind.QUERY_AWARENESS:
            if not conn.take_query_token():
                raise ProtocolError("too many presence queries; slow down", CloseCode.POLICY)
            self.room.presence.send_all(conn, empty=True)

    def _apply_from(self, conn: Connection, update: bytes) -> None:
        """A client's update, if it is sound and its role allows it; refused updates never
        touch the doc (crdt/gate.py, crdt/judge.py)."""
        if update == b"\x00\x00":
            return
        if not conn.take_update_token():
            raise ProtocolError("too many updates; slow down", CloseCode.POLICY)
        try:
            checked = self.room.gate.check(update, role=conn.role, who=conn.account)
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
        if self.room.size + len(checked.update) > self.room.max_bytes:
            raise ProtocolError("the document reached its size limit",
                                CloseCode.DOCUMENT_TOO_LARGE)
        self._accept(conn, checked)
        if self.held:
            self.release_held()

    def _accept(self, conn: Connection, checked: Any) -> bool:
        """Apply a checked update, if a commenter's text is only their suggestions and nobody
        writes under another's client id; then correct misattributed suggestions and record
        the sender's new client ids. True if it was applied."""
        if not self._suggestions_ok(conn, checked) or not self._authorship_ok(conn, checked):
            return False
        self.room.apply(checked.update, conn)
        self._correct_suggestions(conn, checked)
        self._record_authors(conn, checked)
        return True

    def _suggestions_ok(self, conn: Connection, checked: Any) -> bool:
        """A commenter's change to the text passes only as their own suggestions (refused
        otherwise, the connection staying open)."""
        if not checked.suggest or conn.account is None:
            return True
        reason = self.room.suggestions.check(self.room.doc, checked.update, conn.account)
        if reason is None:
            return True
        self._refuse(conn, reason)
        return False

    def _correct_suggestions(self, conn: Connection, checked: Any) -> None:
        """An editor's suggestions made under another account get the sender's: a server
        change everyone receives."""
        if checked.misattributed and conn.account is not None:
            correct_authors(self.room.doc, set(checked.misattributed), conn.account)

    def _authorship_ok(self, conn: Connection, checked: Any) -> bool:
        """Nobody writes under a Yjs client id recorded as another account's (refused, the
        connection staying open): what the text says of its authors stays true."""
        if not checked.clients or conn.account is None:
            return True
        if self.room.owners.claimed_by_other(checked.clients, conn.account) is None:
            return True
        self._refuse(conn, "the update writes under another person's Yjs client id")
        return False

    def _record_authors(self, conn: Connection, checked: Any) -> None:
        """The first update of a client id makes it the sender's (crdt/authors.py): a server
        change everyone receives."""
        if checked.clients and conn.account is not None:
            self.room.owners.record(checked.clients, conn.account, conn.verified_name)

    def _refuse(self, conn: Connection, reason: str) -> None:
        self.room.stats.updates_refused += 1
        if not conn.denied:
            conn.denied = True
            conn.send(protocol.permission_denied(reason))
        log.info("doc %s %s: refused a %s's update: %s", self.room.doc_id, conn.label, conn.role,
                 reason)

    def _hold(self, conn: Connection, update: bytes) -> None:
        """Keep a writer's update that needs changes this server has not seen yet (typing
        while its reconnection's sync is under way) until they arrive; past a bound, ask the
        client to resync."""
        held = self.held.setdefault(conn, [])
        held.append(update)
        if len(held) > MAX_HELD_UPDATES or sum(map(len, held)) > MAX_HELD_BYTES:
            del self.held[conn]
            raise ProtocolError("updates depend on changes this server does not have; resync",
                                CloseCode.TRY_AGAIN_LATER)

    def release_held(self) -> None:
        """Apply held updates that can now be integrated, in arrival order per connection."""
        progress = True
        while progress and self.held:
            progress = False
            for conn in list(self.held):
                waiting = self.held.get(conn) or []
                while waiting and conn in self.room.connections and not conn.closing:
                    try:
                        checked = self.room.gate.check(waiting[0], role=conn.role, who=conn.account)
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
                    if self._accept(conn, checked):
                        progress = True
                if not waiting or conn not in self.room.connections or conn.closing:
                    self.held.pop(conn, None)
