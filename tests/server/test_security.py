"""server/security.py: the sign-in back-off, the sign-up limit and password work, on their own
(a fake clock: no sleeping)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from server.security import HashingBusy, LoginThrottle, PasswordWork, SignupThrottle


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, username: str, address: str = "10.0.0.1") -> int:
    """One failed attempt; the wait it was refused with (0: it was checked)."""
    wait = throttle.begin(username, address)
    if not wait:
        throttle.end(username, address, ok=False)
    return wait


def test_back_off_doubles_up_to_the_cap_and_ends():
    clock = Clock()
    throttle = LoginThrottle(3, forget=3600, cap=8, base=1, clock=clock)
    assert [fail(throttle, "ada") for _ in range(3)] == [0, 0, 0]
    waits = []
    for _ in range(6):
        wait = throttle.retry_after("ada", "10.0.0.1")
        waits.append(wait)
        assert fail(throttle, "ada") == wait  # refused while waiting: not counted
        clock.now += wait
        assert fail(throttle, "ada") == 0
    assert waits == [1, 2, 4, 8, 8, 8]  # doubling, then capped: it always ends
    clock.now += 8
    assert throttle.begin("ada", "10.0.0.1") == 0
    throttle.end("ada", "10.0.0.1", ok=True)  # the right password: the username is clear
    assert fail(throttle, "ada") == 0


def test_failures_are_forgotten_after_a_quiet_while():
    clock = Clock()
    throttle = LoginThrottle(2, forget=60, cap=8, clock=clock)
    fail(throttle, "ada")
    clock.now += 61
    fail(throttle, "ada")
    assert throttle.retry_after("ada", "10.0.0.1") == 0  # one recent failure, not two


def test_an_address_gets_more_tries_than_a_username_and_one_user_cannot_lock_all():
    throttle = LoginThrottle(2, cap=8, address_factor=4, clock=Clock())
    for i in range(7):
        assert fail(throttle, f"user-{i}", "10.0.0.9") == 0
    assert fail(throttle, "user-7", "10.0.0.9") == 0  # the eighth failure locks the address
    assert throttle.retry_after("someone", "10.0.0.9") > 0
    assert throttle.retry_after("someone", "10.0.0.10") == 0  # other addresses are not


def test_simultaneous_attempts_get_no_more_tries_than_sequential_ones():
    throttle = LoginThrottle(3, clock=Clock())
    started = [throttle.begin("ada", f"10.0.0.{i}") for i in range(10)]
    assert started.count(0) == 3  # three in flight use up the free tries
    for i, wait in enumerate(started):
        if not wait:
            throttle.end("ada", f"10.0.0.{i}", ok=False)
    assert throttle.retry_after("ada", "10.0.0.99") > 0


def test_a_flood_of_usernames_keeps_the_table_bounded():
    throttle = LoginThrottle(5, max_entries=1000, clock=Clock())
    for i in range(100_000):
        fail(throttle, f"guess-{i}", f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}")
    assert len(throttle) <= 1000


def test_sign_ups_per_address_per_hour():
    clock = Clock()
    throttle = SignupThrottle(3, max_entries=100, clock=clock)
    assert [throttle.take("10.0.0.1") for _ in range(3)] == [0, 0, 0]
    wait = throttle.take("10.0.0.1")
    assert 0 < wait <= 1200  # one more every 20 minutes
    assert throttle.take("10.0.0.2") == 0
    clock.now += wait
    assert throttle.take("10.0.0.1") == 0
    for i in range(10_000):
        throttle.take(f"addr-{i}")
    assert len(throttle._buckets) <= 100


async def test_password_work_runs_off_the_loop_a_few_at_a_time(monkeypatch):
    running, most = 0, 0
    lock = threading.Lock()

    def slow_hash(password: str) -> str:
        nonlocal running, most
        assert threading.current_thread() is not threading.main_thread()
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "hash:" + password

    monkeypatch.setattr("server.security.hash_password", slow_hash)
    work = PasswordWork(workers=2, queue=6)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0.01)

    tick = asyncio.create_task(ticker())
    jobs = [asyncio.create_task(work.hash(f"p{i}")) for i in range(10)]
    done = await asyncio.gather(*jobs, return_exceptions=True)
    tick.cancel()
    assert most == 2
    assert sum(isinstance(r, HashingBusy) for r in done) == 2  # 2 running + 6 waiting fit
    assert [r for r in done if isinstance(r, str)][0] == "hash:p0"
    assert ticks >= 10  # the loop kept turning (0.25 s of hashing)


@pytest.mark.parametrize("password", ["correct horse", "wrong"])
async def test_password_work_verifies(password):
    from server.security import hash_password

    work = PasswordWork()
    stored = hash_password("correct horse")
    assert await work.verify(stored, password) is (password == "correct horse")
    assert await work.verify(None, password) is False  # no such account: a dummy check


def test_importing_security_hashes_nothing():
    """Every `quire` command imports server/security.py: it makes no argon2 hash on import (a
    tenth of a second each); the dummy hash unknown usernames are checked against is made when
    the server starts (next test)."""
    import subprocess
    import sys

    code = "import server.security as s; print(s.dummy_hash.cache_info().currsize)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=60)
    assert done.stdout.strip() == "0"


async def test_the_server_makes_the_dummy_hash_when_it_starts(sqlite_url):
    """So the first sign-in with an unknown username takes as long as any other: no hash is
    made for it then."""
    from server.config import Settings
    from server.security import dummy_hash
    from tests.support.servers import run_server

    dummy_hash.cache_clear()
    async with run_server(Settings(database_url=sqlite_url)):
        assert dummy_hash.cache_info().currsize == 1
        before = dummy_hash.cache_info().misses
        work = PasswordWork()
        assert await work.verify(None, "anything at all") is False
        assert dummy_hash.cache_info().misses == before  # made at start, not now
