"""Sleeping until the next thing falls due, or until someone says there is news."""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


async def wait_until(wake: asyncio.Event, when: float | None) -> None:
    """Return when `wake` is set or the monotonic clock reaches `when` (None: only on `wake`);
    `wake` is cleared either way, ready for the next round."""
    if when is None:
        await wake.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), max(0.0, when - time.monotonic()))
    wake.clear()


class Deadlines(Generic[K]):
    """Keys that each fall due at a moment, soonest first (documents waiting to be indexed or
    versioned). Setting a key's moment and taking the soonest cost O(log n): scanning every key
    whenever one was added cost O(n) each, O(n²) for a crowd of documents edited at once.

    A moment may be a lower bound: when it comes, the owner checks whether the key is really
    due and, if not, sets the later moment (`at`)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, K]] = []
        self._live: dict[K, int] = {}  # key -> the number of its current entry in the heap
        self._numbers = itertools.count()

    def __len__(self) -> int:
        return len(self._live)

    def at(self, key: K, when: float) -> bool:
        """`key` falls due at `when`, instead of any moment it had. True if it is now the
        soonest (whoever sleeps until the soonest should wake)."""
        number = next(self._numbers)
        self._live[key] = number
        heapq.heappush(self._heap, (when, number, key))
        return self._heap[0][1] == number

    def discard(self, key: K) -> None:
        self._live.pop(key, None)

    def clear(self) -> None:
        self._heap.clear()
        self._live.clear()

    def soonest(self) -> float | None:
        self._drop_replaced()
        return self._heap[0][0] if self._heap else None

    def pop_due(self, now: float) -> K | None:
        """The key whose moment is soonest, if it has come (it leaves); else None."""
        self._drop_replaced()
        if not self._heap or self._heap[0][0] > now:
            return None
        _, _, key = heapq.heappop(self._heap)
        del self._live[key]
        return key

    def _drop_replaced(self) -> None:
        heap, live = self._heap, self._live
        while heap and live.get(heap[0][2]) != heap[0][1]:
            heapq.heappop(heap)
