"""`CpuPool`: a few threads of their own for CPU work on user input (Markdown, version diffs).

That work must not run on the event loop (it would stall every socket and /healthz), and it
must not run in the default thread pool either: every database call and sign-in waits there,
and thirty slow imports or diffs would fill it. So it gets `workers` threads of its own and at
most `queue` jobs waiting for them; past that a request is refused at once (`Busy`, answered
503 with Retry-After) instead of queueing without end. Each job also carries a time budget
(`crdt.budget.Deadline`), checked by the work itself, so no job holds a thread for long.

A job whose request went away still finishes its (bounded) run; its slot is freed when the
thread is done, not when the request is, so abandoned work is counted too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

from fastapi import HTTPException, status

from crdt.budget import BudgetExceeded, Deadline
from crdt.markdown import TooManyNodes

log = logging.getLogger("quire.cpu")

RETRY_AFTER = "2"  # seconds, for a 503 Busy

P = ParamSpec("P")
T = TypeVar("T")


class Busy(Exception):
    """Every worker is busy and the queue is full: try again shortly."""


class CpuPool:
    """`await pool.run(fn, *args)`: run `fn` on one of the pool's threads, or raise `Busy`."""

    def __init__(self, workers: int = 2, queue: int = 4, name: str = "quire-cpu") -> None:
        self.workers = max(1, workers)
        self.capacity = self.workers + max(0, queue)
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix=name)
        self._lock = threading.Lock()
        self._jobs = 0  # running or waiting, including jobs whose caller gave up

    @property
    def jobs(self) -> int:
        return self._jobs

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run `fn(*args, **kwargs)` on the pool; `Busy` when it is full."""
        with self._lock:
            if self._jobs >= self.capacity:
                raise Busy(f"{self._jobs} conversions are running or waiting")
            self._jobs += 1
        try:
            future: Future[T] = self._executor.submit(fn, *args, **kwargs)
        except BaseException:
            self._release(None)
            raise
        # Released when the thread is done with it (or it is cancelled before it starts).
        future.add_done_callback(self._release)
        return await asyncio.wrap_future(future)

    async def run_budgeted(self, seconds: float, fn: Callable[..., T], *args: Any,
                           **kwargs: Any) -> T:
        """`run`, passing `fn` a `deadline=` of `seconds` that starts when the job does (time
        spent waiting for a thread is not taken from the job's budget)."""

        def job() -> T:
            return fn(*args, deadline=Deadline(seconds), **kwargs)

        return await self.run(job)

    def _release(self, _future: Future | None) -> None:
        with self._lock:
            self._jobs -= 1

    def shutdown(self) -> None:
        """Stop taking work; jobs already running finish on their own (they are bounded)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


@contextlib.contextmanager
def refusals(budget: float) -> Iterator[None]:
    """HTTP answers for work the pool or its limits refused: 503 (busy, retry shortly) and
    422 (over the time budget `budget`, or too many parts)."""
    try:
        yield
    except Busy as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE,
                            "The server is busy converting documents; try again shortly",
                            headers={"Retry-After": RETRY_AFTER}) from exc
    except BudgetExceeded as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"The document is too large or too complex to convert within "
                            f"{budget:g} seconds") from exc
    except TooManyNodes as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
