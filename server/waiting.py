"""Sleeping until the next thing falls due, or until someone says there is news."""

from __future__ import annotations

import asyncio
import contextlib
import time


async def wait_until(wake: asyncio.Event, when: float | None) -> None:
    """Return when `wake` is set or the monotonic clock reaches `when` (None: only on `wake`);
    `wake` is cleared either way, ready for the next round."""
    if when is None:
        await wake.wait()
    else:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), max(0.0, when - time.monotonic()))
    wake.clear()
