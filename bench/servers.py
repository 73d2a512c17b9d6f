"""The servers under test, each a subprocess on a free port: Quire on SQLite or PostgreSQL,
pycrdt-websocket and the reference Node server (@y/websocket-server)."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from tests.support.servers import free_port

from . import postgres

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
QUIRE = Path(sys.executable).with_name("quire")
Y_WEBSOCKET_SERVER = BENCH / "node_modules" / "@y" / "websocket-server" / "src" / "server.js"

# Column order of the report: Quire first, then the peers.
SERVERS = {
    "quire-sqlite": "Quire (SQLite)",
    "quire-pg": "Quire (PostgreSQL)",
    "pycrdt-websocket": "pycrdt-websocket 0.16",
    "y-websocket-server": "@y/websocket-server 0.1",
    "floor": "floor: a bare pycrdt relay on Quire's socket layer",
    "floor-hold": "floor, busy 0.4 ms before each broadcast (a commit's time)",
}
QUIRE_SERVERS = ("quire-sqlite", "quire-pg")
# what `python -m bench` runs unless told otherwise; the floor is a reference, asked for by name
DEFAULT_SERVERS = ("quire-sqlite", "quire-pg", "pycrdt-websocket", "y-websocket-server")
# The load comes from one address and one writer sends as fast as it can: lift Quire's
# per-address connection cap and per-connection update rate limit (product defaults 64 and
# 100/s, burst 500), which would otherwise refuse the very load being measured.
QUIRE_BENCH_ENV = {
    "QUIRE_MAX_CONNECTIONS_PER_ADDRESS": "100000",
    "QUIRE_UPDATES_PER_SECOND": "1000000",
    "QUIRE_UPDATE_BURST": "1000000",
}


class ServerProcess:
    """One server subprocess that can be started, stopped and restarted on the same port."""

    health_path: str | None = None  # None: a TCP connect is enough

    def __init__(self, key: str, argv: list[str], *, port: int, ws_base: str,
                 log_path: Path, env: dict[str, str] | None = None) -> None:
        self.key = key
        self.argv = argv
        self.port = port
        self.ws_base = ws_base
        self.http = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = {**os.environ, **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def target(self) -> dict:
        """What the load generator needs to connect: base URL and query parameters."""
        return {"wsBase": self.ws_base, "params": {}}

    def rooms(self, count: int) -> list[str]:
        prefix = secrets.token_hex(4)
        return [f"bench-{prefix}-{i}" for i in range(count)]

    def cpu_seconds(self) -> float:
        """CPU time the server process has used so far (user + system)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, *, idle_share: float = 0.05, window: float = 1.0, timeout: float = 30.0) -> float:
        """Wait until the server is idle (below `idle_share` of a core over `window` seconds):
        what setting up a scenario started (Quire indexes new documents for search a moment
        after they are made) must not run into what the scenario measures. Returns the wait."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            before = self.cpu_seconds()
            time.sleep(window)
            if self.cpu_seconds() - before < idle_share * window:
                break
        return time.monotonic() - started

    def start(self, timeout: float = 30.0) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.argv, cwd=REPO, env=self.env,
                                            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.key} exited early:\n{self.log_tail()}")
            if self._ready():
                return
            time.sleep(0.05)
        raise RuntimeError(f"{self.key} not ready after {timeout}s:\n{self.log_tail()}")

    def _ready(self) -> bool:
        try:
            if self.health_path is None:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            return httpx.get(self.http + self.health_path, timeout=1).status_code == 200
        except (OSError, httpx.TransportError):
            return False

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class QuireProcess(ServerProcess):
    health_path = "/healthz"

    def __init__(self, *args, database_url: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.database_url = database_url
        self.token = ""

    def make_account(self) -> None:
        """Accounts are on: a user and a personal API token through the `quire user` CLI."""
        def cli(*args: str) -> str:
            done = subprocess.run([str(QUIRE), "user", *args, "--database-url", self.database_url],
                                  capture_output=True, text=True, timeout=60, check=True)
            return done.stdout.strip().splitlines()[-1]
        cli("create", "bench", "--password", "bench-password")
        self.token = cli("token", "bench")

    def target(self) -> dict:
        # The browser editor asks for "saved" confirmations: so do the benchmark clients.
        return {"wsBase": self.ws_base, "params": {"saved": "1", "token": self.token}}

    def rooms(self, count: int) -> list[str]:
        """Quire serves only documents it knows: create them through the REST API."""
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.http, timeout=30, headers=headers) as client:
            ids = []
            for i in range(count):
                response = client.post("/api/docs", json={"title": f"bench {i}"})
                response.raise_for_status()
                ids.append(response.json()["id"])
        return ids


@contextmanager
def launch(key: str, workdir: Path, label: str, *, wrap: list[str] | None = None,
           start_timeout: float = 30.0) -> Iterator[ServerProcess]:
    """Start server ``key`` (fresh database for Quire) and stop it, and its database, on exit.
    ``wrap``: a command the server runs under (e.g. valgrind: bench/instructions.py)."""
    port = free_port()
    log_path = workdir / f"{label}.{key}.log"
    with ExitStack() as stack:
        if key in QUIRE_SERVERS:
            if key == "quire-pg":
                url = stack.enter_context(postgres.temporary_database())
            else:
                url = f"sqlite:///{workdir / f'{label}.quire.db'}"
            server: ServerProcess = QuireProcess(
                key, [str(QUIRE), "serve", "--host", "127.0.0.1", "--port", str(port),
                      "--database-url", url],
                port=port, ws_base=f"ws://127.0.0.1:{port}/ws", log_path=log_path,
                env=QUIRE_BENCH_ENV, database_url=url)
        elif key == "pycrdt-websocket":
            server = ServerProcess(
                key, [sys.executable, "-m", "bench.peers.pycrdt_ws_server",
                      "--host", "127.0.0.1", "--port", str(port)],
                port=port, ws_base=f"ws://127.0.0.1:{port}", log_path=log_path)
        elif key in ("floor", "floor-hold"):
            hold = ["--hold-ms", "0.4"] if key == "floor-hold" else []
            server = ServerProcess(
                key, [sys.executable, "-m", "bench.peers.floor_relay",
                      "--host", "127.0.0.1", "--port", str(port), *hold],
                port=port, ws_base=f"ws://127.0.0.1:{port}", log_path=log_path)
        elif key == "y-websocket-server":
            server = ServerProcess(
                key, ["node", str(Y_WEBSOCKET_SERVER)], port=port,
                ws_base=f"ws://127.0.0.1:{port}", log_path=log_path,
                env={"HOST": "127.0.0.1", "PORT": str(port)})
        else:
            raise ValueError(f"unknown server {key!r}")
        server.argv = [*(wrap or []), *server.argv]
        server.start(start_timeout)
        stack.callback(server.stop)
        if isinstance(server, QuireProcess):
            server.make_account()
        yield server
