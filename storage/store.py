"""`SqlStore`: the update store on SQLModel, with group commit.

Appends from every room queue up while a commit is running and go together into the next
transaction, on one writer thread (SQLite wants a single writer; PostgreSQL gains nothing from
more for this workload). Callers await their own append: it returns once durable, or raises.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

from storage import updates

log = logging.getLogger("quire.store")


class SqlStore:
    def __init__(self, engine: Engine, *, max_batch_rows: int = 5000) -> None:
        self.engine = engine
        self.max_batch_rows = max_batch_rows
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quire-db-writer")
        self._queue: list[tuple[str, list[bytes], asyncio.Future[None]]] = []
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> SqlStore:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="quire-db-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            while self._queue:  # let pending appends finish
                await asyncio.sleep(0.01)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        self._writer.shutdown(wait=True)

    async def _in_writer(self, fn: Callable, *args, **kwargs):
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    # ---- UpdateStore -----------------------------------------------------------------------

    async def load(self, doc_id: str) -> list[bytes]:
        loaded = await asyncio.to_thread(updates.load_updates, self.engine, doc_id=doc_id)
        return loaded.updates

    async def append(self, doc_id: str, items: list[bytes]) -> None:
        if not items:
            return
        assert self._wake is not None, "SqlStore used outside `async with`"
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((doc_id, items, future))
        self._wake.set()
        await future

    async def compact(self, doc_id: str, merge: updates.Merge) -> None:
        await self._in_writer(updates.compact, self.engine, doc_id=doc_id, merge=merge)

    # ---- group commit ----------------------------------------------------------------------

    def _commit(self, batch: list[tuple[str, list[bytes]]]) -> None:
        updates.append_updates(self.engine, [(doc_id, u) for doc_id, items in batch for u in items])

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._take()
                try:
                    await self._in_writer(self._commit, [(d, u) for d, u, _ in batch])
                except Exception as exc:
                    log.error("commit of %d appends failed: %s", len(batch), exc)
                    for _, _, future in batch:
                        if not future.done():
                            future.set_exception(exc)
                else:
                    for _, _, future in batch:
                        if not future.done():
                            future.set_result(None)

    def _take(self):
        count = 0
        for i, (_, items, _) in enumerate(self._queue):
            count += len(items)
            if count >= self.max_batch_rows:
                return self._queue[: i + 1], self._queue[i + 1 :]
        return self._queue, []
