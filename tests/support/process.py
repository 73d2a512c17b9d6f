"""`quire serve` as a real subprocess on a fixed free port, for crash and restart tests.

Async-friendly: waiting for /healthz or for the process to exit never blocks the event loop, so
clients in the same loop keep running while the server starts, dies or shuts down.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
# these tests are about crashes and durability, not accounts
TEST_ENV = {"QUIRE_LOG_LEVEL": "warning", "QUIRE_AUTH_REQUIRED": "false"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class QuireProcess:
    """One `quire serve` on a fixed port and database; start, kill and restart it at will."""

    def __init__(self, workdir: Path, *, port: int | None = None,
                 database_url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.database_url = database_url or f"sqlite:///{workdir / 'quire.db'}"
        self.log_path = workdir / "server.log"
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws(self, doc_id: str, **params: str) -> str:
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"ws://127.0.0.1:{self.port}/ws/{doc_id}" + (f"?{query}" if query else "")

    def _command(self) -> list[str]:
        # `python -m server.cli` from the repository root runs this checkout's code (the
        # `quire` console script would run whatever the venv has installed)
        return [sys.executable, "-m", "server.cli", "serve"]

    async def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until /healthz answers 200."""
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*self._command(), "--host", "127.0.0.1", "--port", str(self.port),
                 "--database-url", self.database_url],
                stdout=log, stderr=subprocess.STDOUT,
                env={**os.environ, **TEST_ENV, "QUIRE_DATA_DIR": str(self.workdir), **self.env},
                cwd=REPO,
            )
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.http, timeout=1) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"quire serve exited early ({self.process.returncode}):\n"
                                       f"{self.log_tail()}")
                try:
                    if (await client.get("/healthz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"quire serve not healthy after {timeout}s:\n{self.log_tail()}")

    def signal(self, sig: int) -> None:
        assert self.process is not None and self.process.poll() is None, "server not running"
        self.process.send_signal(sig)

    async def wait(self, timeout: float) -> int:
        """The exit status once the process ends; raises TimeoutError after `timeout` seconds."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"quire serve still running after {timeout}s")
            await asyncio.sleep(0.02)
        return self.process.returncode

    async def kill(self) -> int:
        """SIGKILL: no shutdown code runs at all."""
        self.signal(signal.SIGKILL)
        return await self.wait(10)

    def stop(self) -> None:
        """Cleanup for `finally`: terminate if still running, kill if it does not exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    async def new_doc(self, title: str = "Test") -> str:
        async with httpx.AsyncClient(base_url=self.http, timeout=5) as client:
            response = await client.post("/api/docs", json={"title": title})
            response.raise_for_status()
            return response.json()["id"]

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(base_url=self.http, timeout=2) as client:
                return (await client.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
