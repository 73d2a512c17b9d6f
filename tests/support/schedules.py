"""For tests of the loops that sleep until something falls due (server/waiting.py's users)."""

from __future__ import annotations

import asyncio
import time
from types import ModuleType


def count_wakes(monkeypatch, module: ModuleType) -> list[float | None]:
    """Each time `module`'s loop goes to sleep (its `wait_until`), what it sleeps until."""
    wakes: list[float | None] = []
    real_wait = module.wait_until

    async def counted(wake: asyncio.Event, when: float | None) -> None:
        wakes.append(when)
        await real_wait(wake, when)

    monkeypatch.setattr(module, "wait_until", counted)
    return wakes


async def until(check, *, timeout: float = 5.0, what: str = "not done in time") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.02)
