"""Attacks against a real `quire serve` process, as an ordinary signed-in person would make them.

Every test here runs against a subprocess (so a segfault is seen as one: the process is gone),
with accounts on and four people on each document: the owner, an editor, a commenter and a
viewer (`Cast`). The shape of every attack test:

    doc = await quire.new_doc()                      # owner's document, shared with the cast
    before = await quire.owner_view(doc)
    async with quire.probe():                        # /healthz must answer within 1 s throughout
        ...attack...                                 # e.g. `await quire.attack_frame(...)`
    assert await quire.owner_view(doc) == before     # the document as the owner reads it
    # (the probe also asserts, on leaving, that the process is still alive)

One server serves a whole test module (starting one takes a second or two); each test makes its
own documents, so tests stay independent. A test that kills the server makes every later test
of its module fail at its first step, which is the right signal.

More servers: `quire_factory(env={...})` starts another for the module (e.g. with a short
re-check interval), `quire_factory(database_url=a.database_url, cast_of=a)` one sharing a's
database and people. A person signs in like a browser with `async with quire.browser(role)`
(an httpx client holding the session cookie and sending the page's CSRF token);
`quire.socket(doc, browser)` opens the document's WebSocket with that cookie, from the page's
origin unless `origin=` says otherwise (None: no Origin header at all).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
import websockets
from pycrdt import Doc

from tests.support.accounts import TEST_PASSWORD, make_account
from tests.support.servers import QuireProcess
from tests.support.yclient import YClient

ROLES = ("owner", "editor", "commenter", "viewer")
METRICS_TOKEN = "metrics-" + "m" * 32
PROBE_INTERVAL = 0.1
PROBE_DEADLINE = 1.0  # the bar: /healthz answers within a second during any attack

SEED_MARKDOWN = "# Plan\n\nThe first paragraph of the plan.\n\nA second paragraph, longer.\n"


@dataclass
class Person:
    role: str
    username: str
    user_id: str
    token: str  # a personal API token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class ProbeResult:
    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def worst(self) -> float:
        return max(self.latencies, default=0.0)


class SecureQuire:
    """A `quire serve` subprocess with accounts on, and the people who attack it."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None,
                 database_url: str | None = None) -> None:
        self.process = QuireProcess(workdir, auth=True, database_url=database_url,
                                    env={"QUIRE_SECRET_KEY": "s" * 48,
                                         "QUIRE_UNLOAD_AFTER": "0.3",
                                         "QUIRE_METRICS_TOKEN": METRICS_TOKEN,
                                         **(env or {})})
        self.cast: dict[str, Person] = {}

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self, cast_of: SecureQuire | None = None) -> None:
        """Start the server and make its cast (or share `cast_of`'s, on the same database)."""
        self.process.start()
        if cast_of is not None:
            self.cast = cast_of.cast
            return
        from sqlalchemy import create_engine

        engine = create_engine(self.process.database_url)
        try:
            for role in ROLES:
                username, token = make_account(engine, f"{role}-{id(self) % 10_000}")
                from storage.accounts import get_user_by_username

                user = get_user_by_username(engine, username=username)
                assert user is not None
                self.cast[role] = Person(role, username, user.id, token)
        finally:
            engine.dispose()

    def stop(self) -> None:
        self.process.stop()

    @property
    def metrics_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {METRICS_TOKEN}"}

    @property
    def alive(self) -> bool:
        return self.process.running

    @property
    def http(self) -> str:
        return self.process.http

    @property
    def database_url(self) -> str:
        return self.process.database_url

    # ---- browsers --------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def browser(self, role: str | None = None, *, username: str | None = None,
                      password: str = TEST_PASSWORD, **kwargs) -> AsyncIterator[httpx.AsyncClient]:
        """An HTTP client signed in like a browser (POST /api/auth/login) as `role` or
        `username`: it holds the session cookie and sends the page's CSRF token on writes."""
        name = username or self.cast[role].username
        async with httpx.AsyncClient(base_url=self.http, timeout=10, **kwargs) as client:
            response = await client.post("/api/auth/login",
                                         json={"username": name, "password": password})
            response.raise_for_status()
            await self.refresh_csrf(client)
            yield client

    async def refresh_csrf(self, client: httpx.AsyncClient) -> None:
        """Read the CSRF token from a page, as the browser code does (after a new session)."""
        import re

        page = await client.get("/")
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text)
        assert match, f"no CSRF token on the dashboard ({page.status_code})"
        client.headers["X-CSRF-Token"] = match.group(1)

    def cookie_header(self, client: httpx.AsyncClient) -> str:
        return f"quire_session={client.cookies['quire_session']}"

    def socket(self, doc_id: str, browser: httpx.AsyncClient | None, *, origin: str | None = "",
               token: str | None = None, **kwargs):
        """`websockets.connect` to the document as a browser would: the session cookie of
        `browser`, and `Origin: <this server>` (or `origin`; None sends no Origin)."""
        headers = {}
        if browser is not None:
            headers["Cookie"] = self.cookie_header(browser)
        if origin is not None:
            headers["Origin"] = origin or self.http
        url = self.ws_url(doc_id, None, **({"token": token} if token else {}))
        return websockets.connect(url, additional_headers=headers, max_size=None,
                                  compression=None, open_timeout=5, **kwargs)

    @property
    def ws_base(self) -> str:
        """What y-websocket's provider takes as its server URL (the room is appended)."""
        return self.process.ws_base

    def rss_kib(self) -> int:
        """The server process's resident memory (VmRSS), in KiB."""
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(next(line.split()[1] for line in status.splitlines()
                        if line.startswith("VmRSS:")))

    def ws_url(self, doc_id: str, role: str | None = "editor", **params: str) -> str:
        """The document's WebSocket URL as `role` (None: anonymous)."""
        if role is not None:
            params = {"token": self.cast[role].token, **params}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"{self.ws_base}/{doc_id}" + (f"?{query}" if query else "")

    def client(self, role: str | None = "owner", **kwargs) -> httpx.AsyncClient:
        """An HTTP client as `role` (None: anonymous)."""
        headers = self.cast[role].headers if role is not None else {}
        kwargs.setdefault("timeout", 10)
        return httpx.AsyncClient(base_url=self.http, headers=headers, **kwargs)

    # ---- documents -------------------------------------------------------------------------

    async def new_doc(self, markdown: str = SEED_MARKDOWN, title: str = "Plan") -> str:
        """A document of the owner's with some text, shared with the editor, the commenter and
        the viewer in their roles."""
        async with self.client("owner") as client:
            response = await client.post("/api/docs/import", params={"title": title},
                                         content=markdown.encode(),
                                         headers={"Content-Type": "text/markdown"})
            response.raise_for_status()
            doc_id = response.json()["id"]
            for role in ("editor", "commenter", "viewer"):
                response = await client.post(f"/api/docs/{doc_id}/shares",
                                              json={"username": self.cast[role].username,
                                                    "role": role})
                response.raise_for_status()
        return doc_id

    async def owner_view(self, doc_id: str) -> dict:
        """The document as its owner reads it over REST: text, editor JSON and comments."""
        async with self.client("owner") as client:
            content = await client.get(f"/api/docs/{doc_id}/content")
            content.raise_for_status()
            threads = await client.get(f"/api/docs/{doc_id}/comments")
            threads.raise_for_status()
        return {"content": content.json(), "comments": threads.json()}

    # ---- attackers -------------------------------------------------------------------------

    async def joined(self, doc_id: str, role: str = "editor", doc: Doc | None = None) -> YClient:
        """A well-behaved pycrdt client of the document as `role`, connected and synced."""
        client = YClient(self.ws_url(doc_id, role), doc=doc)
        await client.connect()
        await client.wait_synced()
        return client

    async def attack_frame(self, doc_id: str, frames: bytes | list[bytes], role: str = "editor",
                           *, timeout: float = 10.0) -> tuple[int | None, str]:
        """Connect as `role`, wait for the server's sync step 1, send `frames`, and return how
        the server ended the connection: (close code, reason). (None, "") if it kept it open
        for `timeout` seconds after the last frame."""
        if isinstance(frames, bytes):
            frames = [frames]
        async with websockets.connect(self.ws_url(doc_id, role), max_size=None,
                                      compression=None, open_timeout=5) as ws:
            await asyncio.wait_for(ws.recv(), 5)  # the server's sync step 1
            try:
                for frame in frames:
                    await ws.send(frame)
            except websockets.ConnectionClosed:
                return ws.close_code, ws.close_reason or ""
            try:
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    await asyncio.wait_for(ws.recv(), deadline - time.monotonic())
            except TimeoutError:
                return None, ""
            except websockets.ConnectionClosed:
                pass
            return ws.close_code, ws.close_reason or ""

    # ---- the probe -------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def probe(self, deadline: float = PROBE_DEADLINE) -> AsyncIterator[ProbeResult]:
        """Poll /healthz every 0.1 s while the block runs (the attack). On leaving, assert that
        every probe answered 200 within `deadline` seconds and the process is still alive."""
        result = ProbeResult()
        stop = asyncio.Event()

        async def poll() -> None:
            async with httpx.AsyncClient(base_url=self.http, timeout=deadline * 3) as client:
                while not stop.is_set():
                    started = time.monotonic()
                    try:
                        response = await client.get("/healthz")
                        elapsed = time.monotonic() - started
                        result.latencies.append(elapsed)
                        if response.status_code != 200:
                            result.failures.append(f"/healthz answered {response.status_code}")
                        elif elapsed > deadline:
                            result.failures.append(f"/healthz took {elapsed:.2f}s")
                    except httpx.HTTPError as exc:
                        result.failures.append(f"/healthz failed: {exc!r}")
                    with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), PROBE_INTERVAL)

        task = asyncio.create_task(poll())
        try:
            yield result
            await asyncio.sleep(PROBE_INTERVAL * 2)  # one more probe after the attack
        finally:
            stop.set()
            await task
        assert self.alive, (f"quire serve died (exit {self.process.process.returncode}):\n"
                            f"{self.process.log_tail()}")
        assert not result.failures, f"{result.failures[:5]} (worst {result.worst:.2f}s)"
        assert result.latencies, "no probe ran"

    def log_text(self) -> str:
        return self.process.log_text()


def _start(tmp_path_factory, env: dict[str, str] | None = None) -> Iterator[SecureQuire]:
    quire = SecureQuire(tmp_path_factory.mktemp("quire"), env)
    quire.start()
    try:
        yield quire
    finally:
        quire.stop()


@pytest.fixture(scope="module")
def quire_factory(tmp_path_factory):
    """Start more servers for this module: `quire_factory(env=..., database_url=...,
    cast_of=...)`, from a (module-scoped, synchronous) fixture. All are stopped when the module
    is done."""
    started: list[SecureQuire] = []

    def start(env: dict[str, str] | None = None, *, database_url: str | None = None,
              cast_of: SecureQuire | None = None) -> SecureQuire:
        server = SecureQuire(tmp_path_factory.mktemp("quire"), env, database_url)
        started.append(server)
        server.start(cast_of)
        return server

    try:
        yield start
    finally:
        for server in started:
            server.stop()


@pytest.fixture(scope="module")
def quire(tmp_path_factory) -> Iterator[SecureQuire]:
    """One hardened server per test module (see the module docstring)."""
    yield from _start(tmp_path_factory)


@pytest.fixture(autouse=True)
def _server_alive(request) -> None:
    """A module whose server died fails every later test at once, saying so."""
    if "quire" in request.fixturenames:
        quire = request.getfixturevalue("quire")
        assert quire.alive, f"quire serve is dead:\n{quire.process.log_tail()}"
