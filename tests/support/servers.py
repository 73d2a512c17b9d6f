"""Every way a test starts a Quire server, in one place.

- `run_server(settings)`: the app in the test's own event loop (uvicorn on port 0), as a
  `LiveServer` whose rooms and engine the test can reach into. The default: fast, and a
  failure shows the server's own traceback.
- `QuireProcess(workdir)`: `quire serve` as a real subprocess on a fixed port and database, for
  what only a process can show: SIGKILL and SIGTERM, restarts on the same port and database,
  several processes, a crash that takes the process down, a browser or a Node client.

`QuireProcess` is sync first (browser tests and fixtures are sync); every method that waits has
a twin with an `a` prefix (`astart`, `akill`, `await_exit`, `anew_doc`) that waits without
blocking the event loop, so clients in the same loop keep running while the server starts,
dies or shuts down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from signal import SIGKILL, SIGTERM

import httpx
import uvicorn

from server.app import create_app
from server.config import Settings
from server.websocket_protocol import HttpProtocol, WebSocketProtocol
from tests.support.accounts import make_account

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _url(base: str, doc_id: str, token: str, params: dict[str, str]) -> str:
    if token:
        params = {"token": token, **params}
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{base}/{doc_id}" + (f"?{query}" if query else "")


# ---- in the test's event loop ----------------------------------------------------------------


@dataclass
class LiveServer:
    app: object
    port: int
    settings: Settings
    username: str = ""
    token: str = ""  # a personal API token of `username`, who owns the docs new_doc makes

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws(self, doc_id: str, token: str | None = "", **params: str) -> str:
        """The document's WebSocket URL, authenticated as the test user unless `token` is
        given (None: anonymous)."""
        token = self.token if token == "" else token
        return _url(f"ws://127.0.0.1:{self.port}/ws", doc_id, token or "", params)

    def client(self, token: str | None = "") -> httpx.AsyncClient:
        """An HTTP client authenticated as the test user (or with `token`; None: anonymous)."""
        token = self.token if token == "" else token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.http, headers=headers)

    @property
    def rooms(self):
        return self.app.state.rooms

    @property
    def engine(self):
        return self.app.state.engine

    async def link(self, doc_id: str, role: str = "editor") -> str:
        """A share-link token with `role` on the document (how bots and scripts get access)."""
        async with self.client() as client:
            response = await client.post(f"/api/docs/{doc_id}/links", json={"role": role})
            response.raise_for_status()
            return response.json()["token"]

    async def new_doc(self, title: str = "Test") -> str:
        async with self.client() as client:
            response = await client.post("/api/docs", json={"title": title})
            response.raise_for_status()
            return response.json()["id"]


@contextlib.asynccontextmanager
async def run_server(settings: Settings) -> AsyncIterator[LiveServer]:
    """The app on a free port in this event loop, with a test user who has an API token."""
    if settings.secret_key is None and settings.data_dir == "./data":
        settings = settings.model_copy(update={"secret_key": "test-secret-" + "x" * 32})
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            http=HttpProtocol, ws=WebSocketProtocol, lifespan="on",
                            ws_max_size=settings.max_message_bytes + 1024 * 1024,
                            ws_per_message_deflate=False, proxy_headers=False)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    username, token = await asyncio.to_thread(make_account, app.state.engine)
    try:
        yield LiveServer(app=app, port=port, settings=settings, username=username, token=token)
    finally:
        await app.state.rooms.aclose()
        server.should_exit = True
        await task


# ---- a subprocess ----------------------------------------------------------------------------


class QuireProcess:
    """One `quire serve` subprocess on a fixed port and database: start, kill, stop and restart
    it at will; a restart keeps the port, the database and the data directory (so the generated
    secret key, and with it every session, survives).

    `auth` turns accounts on or off (QUIRE_AUTH_REQUIRED); `env` adds or overrides QUIRE_*
    settings. With accounts on, `make_account()` creates the person whose API token `ws()`,
    `client()` and the document helpers use. The server logs to `log_path`; failures quote
    `log_tail()`.
    """

    STOP_TIMEOUT = 15.0

    def __init__(self, workdir: Path, *, auth: bool, port: int | None = None,
                 database_url: str | None = None, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.auth = auth
        self.port = port or free_port()
        self.database_url = database_url or f"sqlite:///{workdir / 'quire.db'}"
        self.log_path = workdir / "server.log"
        self.env = env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.username = ""
        self.token = ""  # a personal API token of `username` (accounts on, make_account())

    # ---- addresses ---------------------------------------------------------------------------

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_base(self) -> str:
        """What y-websocket's provider takes as its server URL (the room is appended)."""
        return f"ws://127.0.0.1:{self.port}/ws"

    def ws(self, doc_id: str, token: str | None = "", **params: str) -> str:
        """The document's WebSocket URL, with the account's token unless `token` is given
        (None: anonymous)."""
        token = self.token if token == "" else token
        return _url(self.ws_base, doc_id, token or "", params)

    def _headers(self, token: str | None = "") -> dict[str, str]:
        token = self.token if token == "" else token
        return {"Authorization": f"Bearer {token}"} if token else {}

    def client(self, token: str | None = "", **kwargs) -> httpx.AsyncClient:
        """An HTTP client as the account (or with `token`; None: anonymous)."""
        kwargs.setdefault("timeout", 10)
        return httpx.AsyncClient(base_url=self.http, headers=self._headers(token), **kwargs)

    # ---- the process -------------------------------------------------------------------------

    def _spawn(self) -> None:
        assert not self.running, "server already running"
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "QUIRE_LOG_LEVEL": "warning", "QUIRE_DATA_DIR": str(self.workdir),
               "QUIRE_AUTH_REQUIRED": "true" if self.auth else "false", **self.env}
        with self.log_path.open("ab") as log:
            # `python -m server.cli` from the repository root runs this checkout's code (the
            # `quire` console script would run whatever the venv has installed)
            self.process = subprocess.Popen(
                [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1",
                 "--port", str(self.port), "--database-url", self.database_url],
                stdout=log, stderr=subprocess.STDOUT, env=env, cwd=REPO)

    def _check_alive(self) -> None:
        assert self.process is not None
        if self.process.poll() is not None:
            raise RuntimeError(f"quire serve exited early ({self.process.returncode}):\n"
                               f"{self.log_tail()}")

    def _not_ready(self, timeout: float) -> RuntimeError:
        return RuntimeError(f"quire serve not healthy after {timeout}s:\n{self.log_tail()}")

    def start(self, timeout: float = 20.0) -> None:
        """Start the server and wait until /healthz answers 200."""
        self._spawn()
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.http, timeout=1) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/healthz").status_code == 200:
                        return
                time.sleep(0.05)
        raise self._not_ready(timeout)

    async def astart(self, timeout: float = 20.0) -> None:
        """`start()` without blocking the event loop."""
        self._spawn()
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.http, timeout=1) as client:
            while time.monotonic() < deadline:
                self._check_alive()
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise self._not_ready(timeout)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, sig: int) -> None:
        assert self.running, "server not running"
        self.process.send_signal(sig)

    def wait_exit(self, timeout: float) -> int:
        """The exit status once the process ends; raises TimeoutError after `timeout` seconds."""
        assert self.process is not None
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            raise TimeoutError(f"quire serve still running after {timeout}s") from None

    async def await_exit(self, timeout: float) -> int:
        """`wait_exit()` without blocking the event loop."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while self.process.poll() is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"quire serve still running after {timeout}s")
            await asyncio.sleep(0.02)
        return self.process.returncode

    def kill(self) -> int:
        """SIGKILL: no shutdown code runs at all; whatever was not committed is gone."""
        self.signal(SIGKILL)
        return self.wait_exit(10)

    async def akill(self) -> int:
        """`kill()` without blocking the event loop."""
        self.signal(SIGKILL)
        return await self.await_exit(10)

    def stop(self, sig: int = SIGTERM) -> None:
        """Cleanup for `finally` (safe when not running): send `sig` (SIGTERM: a graceful
        shutdown) and wait; SIGKILL if it does not exit in time."""
        if not self.running:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(self.STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def restart(self, timeout: float = 20.0) -> None:
        """A graceful stop, then a start on the same port and database."""
        self.stop()
        self.start(timeout)

    async def healthy(self) -> bool:
        try:
            async with httpx.AsyncClient(base_url=self.http, timeout=2) as client:
                return (await client.get("/healthz")).status_code == 200
        except httpx.TransportError:
            return False

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_text().splitlines()[-lines:]) or "(no log)"

    # ---- an account and documents ------------------------------------------------------------

    def make_account(self, name: str = "tester", password: str = "test-password") -> str:
        """Create a user (display name = `name`) and a personal API token through the
        `quire user` CLI, on this server's database; the token becomes `self.token`."""
        def cli(*args: str) -> str:
            done = subprocess.run(
                [sys.executable, "-m", "server.cli", "user", *args,
                 "--database-url", self.database_url],
                capture_output=True, text=True, timeout=60, check=True, cwd=REPO)
            return done.stdout.strip().splitlines()[-1]
        cli("create", name, "--password", password)
        self.username, self.token = name, cli("token", name)
        return self.token

    def new_doc(self, title: str = "Test") -> str:
        """A new document (the account's, with accounts on)."""
        response = httpx.post(f"{self.http}/api/docs", json={"title": title},
                              headers=self._headers(), timeout=10)
        response.raise_for_status()
        return response.json()["id"]

    async def anew_doc(self, title: str = "Test") -> str:
        """`new_doc()` without blocking the event loop."""
        async with self.client() as client:
            response = await client.post("/api/docs", json={"title": title})
            response.raise_for_status()
            return response.json()["id"]

    def content(self, doc_id: str) -> dict:
        """The server's live copy of the document: {"text", "json", ...}."""
        response = httpx.get(f"{self.http}/api/docs/{doc_id}/content", headers=self._headers(),
                             timeout=10)
        response.raise_for_status()
        return response.json()
