"""One client in a room: its channel, its outbox, and the awareness ids it controls."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from crdt.ports import Channel, ChannelClosed
from crdt.protocol import CloseCode
from crdt.stats import Stats

log = logging.getLogger("quire.connection")


class Connection:
    """Frames to one client go through an outbox drained by one writer task, so a slow client
    never blocks the room; one whose backlog passes `max_backlog` bytes is disconnected (it
    resyncs on reconnect)."""

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
        updates_per_second: float = 100.0,
        update_burst: int = 500,
    ) -> None:
        self.channel = channel
        self.wants_persisted = wants_persisted
        self.role = role  # viewer, commenter, editor or owner (see crdt/permissions.py)
        self.identity = identity  # who this is, for the server's access re-checks
        # a signed-in account's display name: its presence and comments carry this name only
        self.verified_name = verified_name
        self.denied = False  # told once that its changes are refused
        self._rate = updates_per_second
        self._burst = float(update_burst)
        self._tokens = float(update_burst)
        self._refilled = time.monotonic()
        self.awareness_ids: set[int] = set()
        self.label = label
        self._outbox: list[bytes] = []
        self._backlog = 0
        self._max_backlog = max_backlog
        self._wake = asyncio.Event()
        self._closing: tuple[int, str] | None = None
        self._flushed: list[Callable[[], object]] | None = None
        self._stats = stats or Stats()

    def send(self, message: bytes) -> None:
        """Queue a frame (never blocks)."""
        if self._closing is not None:
            return
        self._outbox.append(message)
        self._backlog += len(message)
        self._wake.set()
        if self._backlog > self._max_backlog:
            # Its backlog is dropped: the client resyncs from the document when it reconnects.
            self.close(CloseCode.TRY_AGAIN_LATER, "client too slow to keep up", drop=True)

    def when_flushed(self, callback: Callable[[], object]) -> None:
        """Call `callback` once every frame queued so far is handed to the network."""
        if self._flushed is None:
            self._flushed = []
        self._flushed.append(callback)
        self._wake.set()

    def close(self, code: int, reason: str, *, drop: bool = False) -> None:
        """Ask the writer to close the connection once the frames queued so far are out
        (or at once, dropping them, with `drop`)."""
        if self._closing is None:
            self._closing = (code, reason)
            if drop:
                self._outbox = []
                self._backlog = 0
            self._wake.set()

    def take_update_token(self) -> bool:
        """Token bucket: False when this client sends updates faster than allowed."""
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._refilled) * self._rate)
        self._refilled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    @property
    def closing(self) -> bool:
        return self._closing is not None

    async def run_writer(self) -> None:
        """Send queued frames until closed; then close the channel with the recorded reason."""
        stats = self._stats
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._outbox:
                    batch, self._outbox = self._outbox, []
                    self._backlog = 0
                    for message in batch:
                        await self.channel.send(message)
                        stats.bytes_out += len(message)
                    stats.messages_out += len(batch)
                if self._flushed:
                    callbacks, self._flushed = self._flushed, None
                    for callback in callbacks:
                        callback()
                if self._closing is not None:
                    code, reason = self._closing
                    await self.channel.close(code, reason)
                    return
        except ChannelClosed:
            return
