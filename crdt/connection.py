"""One client in a room: its channel, its outbox, and the awareness ids it controls."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from crdt.limits import NEW_IDS_PER_SECOND, PresenceLimits, TokenBucket
from crdt.ports import Channel, ChannelClosed
from crdt.protocol import CloseCode
from crdt.stats import Stats

log = logging.getLogger("quire.connection")


class Connection:
    """A frame to one client is written at once when that cannot block; otherwise it goes
    through an outbox, drained by a writer task that runs only while there is something to send
    (an idle connection holds no task), so a slow client never blocks the room; one whose backlog passes `max_backlog` bytes is disconnected (it resyncs
    on reconnect)."""

    __slots__ = (
        "channel", "wants_persisted", "role", "identity", "verified_name", "username", "account",
        "denied",
        "_rate",
        "_burst", "_tokens", "_refilled", "awareness_ids", "label", "_outbox", "_backlog",
        "_max_backlog", "_writer", "_closing", "_closed", "_flushed", "_stats", "limits",
        "presence", "presence_dropped", "syncs", "new_ids", "_queries", "echo_spent",
        "__weakref__",
    )

    def __init__(
        self,
        channel: Channel,
        *,
        wants_persisted: bool = False,
        max_backlog: int = 16 * 1024 * 1024,
        stats: Stats | None = None,
        label: str = "",
        role: str = "editor",
        identity: object = None,
        verified_name: str | None = None,
        account: str | None = None,
        username: str | None = None,
        updates_per_second: float = 100.0,
        update_burst: int = 500,
        limits: PresenceLimits | None = None,
    ) -> None:
        self.channel = channel
        self.wants_persisted = wants_persisted
        self.role = role  # viewer, commenter, editor or owner (see crdt/judge.py)
        self.identity = identity  # who this is, for the server's access re-checks
        # a signed-in account's display name: its presence and comments carry this name only
        self.verified_name = verified_name
        # who this is for comment ownership: an account id, "link:<share id>" for a share
        # link, None when accounts are off (see crdt/judge.py)
        self.account = account
        self.username = username  # the account's username (None without an account)
        self.denied = False  # told once that its changes are refused
        self._rate = updates_per_second
        self._burst = float(update_burst)
        self._tokens = float(update_burst)
        self._refilled = time.monotonic()
        self.awareness_ids: set[int] = set()
        self.limits = limits = limits or PresenceLimits()
        # awareness frames that change something; beyond the rate they are dropped
        self.presence = TokenBucket(limits.per_second, limits.burst)
        self.presence_dropped = False  # logged once
        self.syncs = TokenBucket(limits.syncs_per_second, limits.sync_burst)
        # client ids it may take on beyond `limits.ids_per_connection`
        self.new_ids = TokenBucket(NEW_IDS_PER_SECOND, limits.ids_per_connection)
        self._queries: TokenBucket | None = None  # made on the first query (browsers send none)
        # presence entries it sent back; what it may send back follows from what it was sent
        # (`Presence.take`, crdt/presence.py)
        self.echo_spent = 0
        self.label = label
        self._outbox: list[bytes] = []
        self._backlog = 0
        self._max_backlog = max_backlog
        self._writer: asyncio.Task[None] | None = None
        self._closing: tuple[int, str] | None = None
        self._closed = False  # the close frame went out (or the peer was gone)
        self._flushed: list[Callable[[], object]] | None = None
        self._stats = stats or Stats()

    def send(self, message: bytes) -> None:
        """Queue a frame (never blocks)."""
        if self._closing is not None:
            return
        if self._writer is None and not self._outbox and self.channel.send_nowait(message):
            self._stats.bytes_out += len(message)  # written at once: no task needed
            self._stats.messages_out += 1
            return
        self._outbox.append(message)
        self._backlog += len(message)
        if self._backlog > self._max_backlog:
            # Its backlog is dropped: the client resyncs from the document when it reconnects.
            self.close(CloseCode.TRY_AGAIN_LATER, "client too slow to keep up", drop=True)
            return
        self._start_writer()

    def when_flushed(self, callback: Callable[[], object]) -> None:
        """Call `callback` once every frame queued so far has left this process (is with the
        operating system)."""
        if self._flushed is None:
            self._flushed = []
        self._flushed.append(callback)
        self._start_writer()

    def close(self, code: int, reason: str, *, drop: bool = False) -> None:
        """Close the connection once the frames queued so far are out (or at once, dropping
        them and without a closing handshake where the channel can, with `drop`)."""
        if self._closing is None:
            self._closing = (code, reason)
            if drop:
                self._outbox = []
                self._backlog = 0
                if self.channel.abort():  # it may not be reading at all: no handshake
                    self._closed = True
                    return
            self._start_writer()

    async def finish(self, timeout: float = 5.0) -> None:
        """Close (normally, unless a reason was given before) and wait until the close frame is
        out; a client that does not read for `timeout` seconds is cut off."""
        self.close(CloseCode.NORMAL, "")
        writer = self._writer
        if writer is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(writer), timeout=timeout)
        except TimeoutError:
            writer.cancel()

    def take_update_token(self) -> bool:
        """Token bucket: False when this client sends updates faster than allowed."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def take_query_token(self) -> bool:
        """Token bucket: False when this client asks for everyone's presence too often."""
        if self._queries is None:
            self._queries = TokenBucket(self.limits.queries_per_second, self.limits.query_burst)
        return self._queries.take()

    @property
    def closing(self) -> bool:
        return self._closing is not None

    def _start_writer(self) -> None:
        if self._writer is None and not self._closed:
            self._writer = asyncio.get_running_loop().create_task(self._write())

    async def _write(self) -> None:
        """Send queued frames until the outbox is empty; close the channel once asked to."""
        stats = self._stats
        try:
            while self._outbox or self._flushed:
                while self._outbox:
                    batch, self._outbox = self._outbox, []
                    self._backlog = 0
                    for message in batch:
                        await self.channel.send(message)
                        stats.bytes_out += len(message)
                    stats.messages_out += len(batch)
                if self._flushed:
                    await self.channel.drained()
                    if self._outbox:
                        continue  # more was queued meanwhile: that goes out first
                    callbacks, self._flushed = self._flushed, None
                    for callback in callbacks:
                        callback()
            if self._closing is not None:
                self._closed = True
                code, reason = self._closing
                await self.channel.close(code, reason)
        except ChannelClosed:
            self._closed = True
        finally:
            self._writer = None
