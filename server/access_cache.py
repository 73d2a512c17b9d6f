"""Recent access decisions, so a burst of connections does not ask the database each time.

A page load, a reconnect storm after a restart or a thousand clients joining one room all ask
the same questions: who holds this cookie or token, and what may they do with this document.
Each answer is kept for a short while (`QUIRE_ACCESS_CACHE_SECONDS`, 2 s by default, 0 turns
it off) and only when it grants access: a refusal is always asked again.

Staleness is bounded three ways. Whatever changes access on this process or, through the
relay's control messages, on another one (sharing, roles, deletion, sign-outs, passwords,
tokens) goes through `server.liveaccess.AccessWatch`, which clears this cache before re-checking
the open connections; a share link's own expiry is checked each time its remembered decision is
reused; and a session that simply expires is seen by the periodic re-check (which clears the
cache when it closes anything) or after the short lifetime.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

from server.access import Principal
from storage.shares import is_active

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


def _still_valid(principal: Principal) -> bool:
    """A share link that expired since it was remembered is asked about again."""
    return principal.link is None or is_active(principal.link)


class AccessCache:
    """Who holds a cookie's session id or a token (`principal`), and the role that gave them on
    a document (`decision`), for a short while."""

    def __init__(self, seconds: float) -> None:
        self._principals: _Recent[Principal] = _Recent(seconds)
        self._decisions: _Recent[tuple[Principal, str]] = _Recent(seconds)

    def principal(self, session_id: str | None, token: str | None) -> Principal | None:
        found = self._principals.get((session_id, token))
        return found if found is not None and _still_valid(found) else None

    def decision(self, doc_id: str, session_id: str | None,
                 token: str | None) -> tuple[Principal, str] | None:
        found = self._decisions.get((doc_id, session_id, token))
        return found if found is not None and _still_valid(found[0]) else None

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
