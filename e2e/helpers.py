"""Small waits shared by the browser tests (no fixed sleeps: poll with a deadline)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> T:
    """Call `probe` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s (last: {last!r})")
        time.sleep(interval)
        last = probe()
    return last


def converged(*people) -> dict:
    """Wait until every person's editor holds the same document; return it."""
    def probe():
        docs = [p.json() for p in people]
        return docs[0] if all(d == docs[0] for d in docs) else None

    return eventually(probe, message="all editors identical")
