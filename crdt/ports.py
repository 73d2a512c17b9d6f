"""The interfaces other packages satisfy: a Channel to one client, and the UpdateStore.

`crdt/` declares them; `server/` adapts a WebSocket to `Channel` and `storage/` provides the store.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Protocol

Merge = Callable[[list[bytes]], bytes]


class ChannelClosed(Exception):
    """The peer went away (normal end of a connection)."""


class Channel(Protocol):
    """One client's message stream. Binary y-websocket frames in and out."""

    async def recv(self) -> bytes:
        """The next frame. Raises ChannelClosed when the peer left, ProtocolError on a bad frame."""
        ...

    async def send(self, message: bytes) -> None:
        """Send one frame. Raises ChannelClosed if the peer is gone."""
        ...

    def send_nowait(self, message: bytes) -> bool:
        """Send one frame at once if that cannot block; False if nothing was sent (then use
        `send`)."""
        ...

    def deliver_to(self, callback: Callable[[bytes], None] | None,
                   read: Callable[[], None] | None = None) -> bool:
        """From now on, call `callback` with each frame as it arrives, in order, instead of
        returning it from `recv`, and `read()` after the last of the frames that arrived
        together (None: back to `recv`). If the callback raises, `recv` raises that error in
        its place and delivery goes back to `recv`. False if this channel cannot (then use
        `recv`)."""
        ...

    async def close(self, code: int, reason: str) -> None:
        """Close the connection with a WebSocket close code and a human-readable reason."""
        ...

    async def drained(self) -> None:
        """Return once every frame sent so far has left this process (is with the operating
        system), or as soon as that cannot be known."""
        ...

    def abort(self) -> bool:
        """Drop the connection at once, without a closing handshake (for a client that stopped
        reading); False if this channel cannot."""
        ...


class UpdateStore(Protocol):
    """Durable storage of a document's updates. Every call is safe to await on the event loop."""

    async def load(self, doc_id: str) -> list[bytes]:
        """Every stored update of the document (snapshot first), in order."""
        ...

    async def append(self, doc_id: str, updates: list[bytes]) -> None:
        """Persist `updates`; returns only once they are durably committed."""
        ...

    def append_now(self, doc_id: str, updates: list[bytes]) -> bool:
        """Persist `updates` at once if that cannot wait on anything (no lock, no queue ahead
        of them): True once durably committed; False, with nothing written, otherwise (then
        use `append`). Raises if the commit failed."""
        ...

    async def quarantine(self, doc_id: str, update: bytes, reason: str) -> None:
        """Keep aside stored bytes the document was opened without (unreadable, too deep)."""
        ...

    async def compact(self, doc_id: str, merge: Merge) -> None:
        """Fold the stored log into one snapshot, using `merge` to combine updates."""
        ...


class RelayKind(IntEnum):
    UPDATE = 0
    AWARENESS = 1
    QUERY_AWARENESS = 2  # "who is here?": processes holding the document answer with AWARENESS


class Relay(Protocol):
    """Shares a room's durable updates and its awareness with other server processes."""

    def publish(self, doc_id: str, kind: RelayKind, payload: bytes) -> None:
        """Queue a message for the other processes (never blocks, never raises)."""
        ...
