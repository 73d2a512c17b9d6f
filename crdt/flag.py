"""A one-way asyncio flag that costs nothing until someone waits on it (rooms hold several)."""

from __future__ import annotations

import asyncio


class Flag:
    """A one-way asyncio flag: like asyncio.Event, but it holds no waiter queue until someone
    waits (a server holds thousands of rooms; an Event costs about 0.7 KiB)."""

    __slots__ = ("_set", "_waiter")

    def __init__(self) -> None:
        self._set = False
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        if self._set:
            return
        self._set = True
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
        self._waiter = None

    async def wait(self) -> None:
        if self._set:
            return
        if self._waiter is None:
            self._waiter = asyncio.get_running_loop().create_future()
        await asyncio.shield(self._waiter)  # one waiter's cancellation leaves the others

