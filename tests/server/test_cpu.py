"""server/cpu.py: the CPU pool refuses work past its capacity and frees slots when work ends."""

from __future__ import annotations

import asyncio
import threading

import pytest

from crdt.budget import BudgetExceeded, Deadline
from server.cpu import Busy, CpuPool


async def test_busy_past_workers_plus_queue_and_freed_after():
    pool = CpuPool(workers=1, queue=1)
    gate = threading.Event()
    try:
        first = asyncio.create_task(pool.run(gate.wait, 5))
        second = asyncio.create_task(pool.run(gate.wait, 5))
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):
            await pool.run(lambda: None)
        gate.set()
        assert await first and await second
        assert await pool.run(lambda: 42) == 42
        assert pool.jobs == 0
    finally:
        gate.set()
        pool.shutdown()


async def test_a_caller_that_gives_up_keeps_its_slot_until_the_thread_is_done():
    pool = CpuPool(workers=1, queue=0)
    gate = threading.Event()
    try:
        task = asyncio.create_task(pool.run(gate.wait, 5))
        await asyncio.sleep(0.05)
        task.cancel()
        await asyncio.sleep(0.05)
        with pytest.raises(Busy):  # the abandoned job still occupies the thread
            await pool.run(lambda: None)
        gate.set()
        for _ in range(100):
            if pool.jobs == 0:
                break
            await asyncio.sleep(0.01)
        assert await pool.run(lambda: "free") == "free"
    finally:
        gate.set()
        pool.shutdown()


async def test_run_budgeted_starts_the_budget_on_the_thread():
    pool = CpuPool(workers=1, queue=1)

    def spin(*, deadline: Deadline) -> None:
        while True:
            deadline.check()

    try:
        with pytest.raises(BudgetExceeded):
            await pool.run_budgeted(0.05, spin)
    finally:
        pool.shutdown()
