"""Per-connection limits on presence (awareness) and sync requests, and the token bucket they use.

What a browser sends, and so what the defaults leave room for (y-websocket 3.1, y-protocols 1.0,
@tiptap/y-tiptap 3.0):
- its own state, about 300 bytes (`{user: {name, color}, cursor: {anchor, head}}`, the cursor
  as two Yjs relative positions), on every caret move, unthrottled: a drag-selection sends one
  per animation frame (up to the display's refresh rate), and y-tiptap re-sends it after every
  remote change to the document, so a browser's rate follows the room's activity; plus a renewal
  every 15 s;
- back every presence change it receives, at the same clock (an echo: a frame that changes
  nothing), and later a removal of each state it stopped hearing from for 30 s;
- the states of its other tabs of the same document that reached it first (BroadcastChannel);
- one sync step 1 when it connects; never a query-awareness (that is server -> client).
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    """The numbers (`server/config.py` has the settings, and why each default)."""

    states_per_frame: int = 16  # fresh states in one awareness frame (echoes aside)
    state_bytes: int = 4096  # one state's JSON, checked before it is decoded
    ids_per_connection: int = 16  # client ids one connection controls; new ones: + 1 a minute
    per_second: float = 60.0  # awareness frames that change something, sustained ...
    burst: int = 300  # ... and in bursts; beyond, such frames are dropped
    queries_per_second: float = 1.0  # query-awareness frames (browsers send none)
    query_burst: int = 5
    syncs_per_second: float = 0.2  # sync step 1 frames (browsers send one per connection)
    sync_burst: int = 5
    relay_states: int = 10_000  # states in one awareness message from another process

    @property
    def relay_state_bytes(self) -> int:
        """One relayed state: our own re-encoding of a client's state can be longer than what
        the client sent (`1e15` becomes `1000000000000000.0`), so relays get 8 times more."""
        return 8 * self.state_bytes


# New client ids a connection may take on beyond `ids_per_connection`, per second: a long-lived
# tab whose sibling tabs are reloaded now and then keeps working, a connection cycling ids is not.
NEW_IDS_PER_SECOND = 1 / 60


class TokenBucket:
    """`burst` tokens, refilled at `rate` per second."""

    __slots__ = ("rate", "burst", "tokens", "refilled")

    def __init__(self, rate: float, burst: float) -> None:
        # a connection holds several: a full bucket allocates nothing but itself
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.refilled = 0.0  # a full bucket stays full whatever this says

    def ready(self, count: int = 1) -> bool:
        """Whether `count` tokens are there now (nothing is taken)."""
        return self.tokens >= count or self._refill() >= count

    def take(self, count: int = 1) -> bool:
        """Take `count` tokens if they are there; False (and nothing taken) when they are not."""
        if self._refill() < count:
            return False
        self.tokens -= count
        return True

    def spend(self, count: int = 1) -> None:
        """Take `count` tokens (after `ready` said they are there)."""
        self._refill()
        self.tokens -= count

    def _refill(self) -> float:
        # `ready` refills only when short: refilling only increases the count, and every
        # spend refills first, so the bucket is exact at each spend
        now = time.monotonic()
        self.tokens = tokens = min(self.burst, self.tokens + (now - self.refilled) * self.rate)
        self.refilled = now
        return tokens
