"""Recent access decisions, so a burst of connections does not ask the database each time.

A page load, a reconnect storm after a restart or a thousand clients joining one room all ask
the same questions: who holds this cookie or token, and what may they do with this document.
Each answer is kept for a short while (`QUIRE_ACCESS_CACHE_SECONDS`, 2 s by default, 0 turns
it off) and only when it grants access: a refusal is always asked again.

Staleness is bounded twice. Whatever changes access on this process or, through the relay's
control messages, on another one (sharing, roles, deletion, sign-outs, passwords, tokens) goes
through `server.liveaccess.AccessWatch`, which clears this cache before re-checking the open
connections; and what nobody announces (a link or session that simply expires) is seen again
after the short lifetime, as it is by live connections at the next sweep.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

from server.access import Principal

MAX_ENTRIES = 10_000  # per table: the oldest go first

V = TypeVar("V")


class _Recent(Generic[V]):
    """A small table of answers that expire, bounded in size (least recently stored go)."""

    __slots__ = ("seconds", "_items")

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._items: OrderedDict[tuple, tuple[float, V]] = OrderedDict()

    def get(self, key: tuple) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        if found[0] <= time.monotonic():
            del self._items[key]
            return None
        return found[1]

    def put(self, key: tuple, value: V) -> None:
        if self.seconds <= 0:
            return
        self._items[key] = (time.monotonic() + self.seconds, value)
        self._items.move_to_end(key)
        while len(self._items) > MAX_ENTRIES:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class AccessCache:
    """Who holds a cookie's session id or a token (`principal`), and the role that gave them on
    a document (`decision`), for a short while."""

    def __init__(self, seconds: float) -> None:
        self._principals: _Recent[Principal] = _Recent(seconds)
        self._decisions: _Recent[tuple[Principal, str]] = _Recent(seconds)

    def principal(self, session_id: str | None, token: str | None) -> Principal | None:
        return self._principals.get((session_id, token))

    def decision(self, doc_id: str, session_id: str | None,
                 token: str | None) -> tuple[Principal, str] | None:
        return self._decisions.get((doc_id, session_id, token))

    def remember(self, doc_id: str, session_id: str | None, token: str | None,
                 principal: Principal, role: str | None) -> None:
        """Keep what was found, if it grants something (refusals are asked again)."""
        if principal.anonymous:
            return
        self._principals.put((session_id, token), principal)
        if role is not None:
            self._decisions.put((doc_id, session_id, token), (principal, role))

    def clear(self) -> None:
        """Access changed somewhere: forget everything (cheap; it refills on demand)."""
        self._principals.clear()
        self._decisions.clear()
