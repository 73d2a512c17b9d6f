"""A real ``quire serve`` subprocess on a free port with a temporary SQLite database."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

QUIRE = Path(sys.executable).with_name("quire")
ACCOUNT = "interop"  # the account the tests sign in as (its display name is the same)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_node(package_dir: Path) -> None:
    """Skip (locally) or fail (in CI) when node or the npm packages are missing."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not (package_dir / "node_modules").is_dir():
        problem = f"run `make node` first ({package_dir.name}/node_modules is missing)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


class QuireServer:
    """Start, kill and restart one Quire server on a fixed port and database."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.database_url = f"sqlite:///{workdir / 'quire.db'}"
        self.log_path = workdir / "server.log"
        self.http = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}/ws"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""  # a personal API token of the user who owns the documents

    def make_account(self) -> None:
        """Create a user and an API token through the `quire user` CLI (accounts are on)."""
        def cli(*args: str) -> str:
            done = subprocess.run([str(QUIRE), "user", *args, "--database-url", self.database_url],
                                  capture_output=True, text=True, timeout=60, check=True)
            return done.stdout.strip().splitlines()[-1]
        cli("create", ACCOUNT, "--password", "interop-password")
        self.token = cli("token", ACCOUNT)

    def room_url(self, doc_id: str) -> str:
        """The document's WebSocket URL for a client that is not y-websocket (token in query)."""
        return f"{self.ws_base}/{doc_id}?token={self.token}"

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout: float = 20.0) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [str(QUIRE), "serve", "--host", "127.0.0.1", "--port", str(self.port),
             "--database-url", self.database_url],
            stdout=log, stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"quire serve exited early:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.http}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"quire serve not healthy after {timeout}s:\n{self.log_tail()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def create_doc(self, title: str = "interop") -> str:
        response = httpx.post(f"{self.http}/api/docs", json={"title": title},
                              headers=self._headers(), timeout=10)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def content(self, doc_id: str) -> dict:
        response = httpx.get(f"{self.http}/api/docs/{doc_id}/content", headers=self._headers(),
                             timeout=10)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(scope="module")
def quire_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuireServer]:
    """One server per test module (each test uses its own documents); tests may restart it."""
    if not QUIRE.exists():
        pytest.fail(f"{QUIRE} is missing: run `make install`")
    server = QuireServer(tmp_path_factory.mktemp("quire"))
    server.start()
    server.make_account()
    try:
        yield server
    finally:
        server.stop()
