"""Real Redis for tests: the shared one at 127.0.0.1:6379, or a private redis-server."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from tests.support.servers import free_port

IN_CI = os.environ.get("CI") == "true"


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError):
        with socket.create_connection((host, port), timeout=1):
            return True
    return False


def require_redis() -> str:
    """URL of the shared Redis, or skip (fail under CI) when it is down."""
    if not port_open(6379):
        if IN_CI:
            pytest.fail("Redis is not reachable at 127.0.0.1:6379 (CI must run these tests)")
        pytest.skip("Redis not reachable at 127.0.0.1:6379")
    return "redis://127.0.0.1:6379/0"


class PrivateRedis:
    """A redis-server of our own on a free port, so a test may stop and restart it."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            if IN_CI:
                pytest.fail("redis-server is not installed (CI must run these tests)")
            pytest.skip("redis-server not installed")
        self.binary = binary
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None


@contextlib.contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


def run_prefix() -> str:
    return f"quire-test-{secrets.token_hex(4)}:"
