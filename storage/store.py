"""`SqlStore`: the update store on SQLModel, with group commit.

Appends from every room queue up while a commit is running and go together into the next
transaction, on one writer thread (SQLite wants a single writer; PostgreSQL gains nothing from
more for this workload). Callers await their own append: it returns once durable, or raises.

On SQLite, an append that finds nothing queued commits at once on the event loop instead,
through a connection that never waits for a lock: appending a keystroke to the WAL takes
about 50 µs, where the round trip to the writer thread and back costs ten times that. If any
other connection holds the write lock, nothing is written and the append takes the writer
thread's path (which waits for the lock). The loop never waits on the database.

On PostgreSQL, each batch is committed from the loop itself on a connection of its own, as one
statement in autocommit (`storage.pg_append`): no thread hand-off, one round trip; the loop
awaits it like any socket, so it never blocks on it either.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy.engine import Engine

from storage import updates
from storage.db import checkpoint, sqlite_nowait_connection
from storage.pg_append import PgAppender

log = logging.getLogger("quire.store")

T = TypeVar("T")
# an append waiting for the writer: (document id, its updates, what its caller awaits)
Pending = tuple[str, list[bytes], asyncio.Future[None]]

# commits on the loop never checkpoint the WAL themselves: the writer thread does, this often
CHECKPOINT_EVERY = 1000


class SqlStore:
    def __init__(self, engine: Engine, *, max_batch_rows: int = 5000) -> None:
        self.engine = engine
        self.max_batch_rows = max_batch_rows
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quire-db-writer")
        self._queue: list[Pending] = []
        self._committing = False  # the writer thread is committing a batch
        self._nowait: sqlite3.Connection | None = None
        self._pg = PgAppender(engine) if engine.dialect.name == "postgresql" else None
        self._since_checkpoint = 0
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> SqlStore:
        self._nowait = await asyncio.to_thread(sqlite_nowait_connection, self.engine)
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._run(), name="quire-db-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            while self._queue or self._committing:  # let pending appends finish
                await asyncio.sleep(0.01)
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._nowait is not None:
            self._nowait.close()
            self._nowait = None
        if self._pg is not None:
            await self._pg.close()
        self._writer.shutdown(wait=True)

    async def _in_writer(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._writer, lambda: fn(*args, **kwargs))

    # ---- UpdateStore -----------------------------------------------------------------------

    async def load(self, doc_id: str) -> list[bytes]:
        loaded = await asyncio.to_thread(updates.load_updates, self.engine, doc_id=doc_id)
        return loaded.updates

    def append_now(self, doc_id: str, items: list[bytes]) -> bool:
        # On the loop only when nothing is waiting for the writer thread: appends stay in order.
        if self._nowait is None or self._queue or self._committing:
            return False
        if not updates.append_updates_now(self._nowait, [(doc_id, u) for u in items]):
            return False
        self._since_checkpoint += 1
        if self._since_checkpoint >= CHECKPOINT_EVERY:
            self._since_checkpoint = 0
            self._writer.submit(self._checkpoint)
        return True

    async def append(self, doc_id: str, items: list[bytes]) -> None:
        if not items:
            return
        assert self._wake is not None, "SqlStore used outside `async with`"
        if self.append_now(doc_id, items):
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((doc_id, items, future))
        self._wake.set()
        await future

    async def quarantine(self, doc_id: str, update: bytes, reason: str) -> None:
        await self._in_writer(updates.quarantine, self.engine, doc_id=doc_id, data=update,
                              reason=reason)

    async def compact(self, doc_id: str, merge: updates.Merge) -> None:
        # Read and merged on a worker thread, not the writer's (a large document's merge takes
        # a tenth of a second or more, and commits that cannot be made on the loop queue on the
        # writer thread); only the short write that replaces the rows goes to the writer.
        def read_and_merge() -> tuple[updates.Folding, bytes | None]:
            folding = updates.read_for_compaction(self.engine, doc_id=doc_id)
            return folding, merge(folding.parts) if folding.row_ids else None

        folding, merged = await asyncio.to_thread(read_and_merge)
        if merged is not None:
            await self._in_writer(updates.replace_with_snapshot, self.engine, doc_id=doc_id,
                                  folding=folding, merged=merged)

    # ---- group commit ----------------------------------------------------------------------

    def _commit(self, batch: list[tuple[str, list[bytes]]]) -> None:
        updates.append_updates(self.engine, [(doc_id, u) for doc_id, items in batch for u in items])

    def _checkpoint(self) -> None:
        try:
            checkpoint(self.engine)
        except Exception as exc:  # the next one will try again; nothing is lost
            log.warning("WAL checkpoint failed: %s", exc)

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch, self._queue = self._take()
                self._committing = True
                try:
                    if self._pg is not None:
                        await self._pg.append([(d, u) for d, items, _ in batch for u in items])
                    else:
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
                finally:
                    self._committing = False

    def _take(self) -> tuple[list[Pending], list[Pending]]:
        count = 0
        for i, (_, items, _) in enumerate(self._queue):
            count += len(items)
            if count >= self.max_batch_rows:
                return self._queue[: i + 1], self._queue[i + 1 :]
        return self._queue, []
