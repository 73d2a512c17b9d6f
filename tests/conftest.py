"""Shared fixtures: databases (SQLite in a temp dir, PostgreSQL in a per-run database) and a real
Quire server on port 0 in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from server.app import create_app
from server.config import Settings
from server.websocket_protocol import WebSocketProtocol

PG_ADMIN_URL = os.environ.get("QUIRE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI") == "true"


def _pg_reachable() -> bool:
    with contextlib.suppress(OSError):
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    return False


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, dropped afterwards."""
    if not _pg_reachable():
        if IN_CI:
            pytest.fail("PostgreSQL is not reachable at 127.0.0.1:5432 (CI must run these tests)")
        pytest.skip("PostgreSQL not reachable at 127.0.0.1:5432")
    from sqlalchemy import create_engine, text

    name = f"quire_test_{secrets.token_hex(4)}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    try:
        yield f"{base}/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'quire.db'}"
    base = request.getfixturevalue("pg_database")
    # a schema-free way to isolate tests: every table row is keyed by a random document id,
    # so tests sharing the run's database do not see each other's documents by id.
    return base


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'quire.db'}"


_PASSWORD_HASH: list[str] = []


def password_hash() -> str:
    """One argon2 hash per test run (hashing is deliberately slow)."""
    if not _PASSWORD_HASH:
        from server.security import hash_password

        _PASSWORD_HASH.append(hash_password(TEST_PASSWORD))
    return _PASSWORD_HASH[0]


TEST_PASSWORD = "correct horse battery"


def make_account(engine, name: str = "tester") -> tuple[str, str]:
    """A user (username, new personal API token), created straight in the database if it is
    not there yet — so servers sharing a database act as the same person."""
    from server.security import PERSONAL_PREFIX, new_token, token_hash
    from storage import accounts

    username = name
    user = accounts.get_user_by_username(engine, username=username)
    if user is None:
        try:
            user = accounts.create_user(engine, username=username,
                                        display_name=username.title(),
                                        password_hash=password_hash())
        except accounts.UsernameTaken:
            user = accounts.get_user_by_username(engine, username=username)
    token = new_token(PERSONAL_PREFIX)
    accounts.add_api_token(engine, user_id=user.id, token_hash=token_hash(token), name="tests")
    return username, token


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
        if token:
            params = {"token": token, **params}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        return f"ws://127.0.0.1:{self.port}/ws/{doc_id}" + (f"?{query}" if query else "")

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
    if settings.secret_key is None and settings.data_dir == "./data":
        settings = settings.model_copy(update={"secret_key": "test-secret-" + "x" * 32})
    app = create_app(settings)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning",
                            ws=WebSocketProtocol, lifespan="on",
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


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2)) as live:
        yield live


@pytest.fixture
async def server_any_db(db_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(Settings(database_url=db_url, unload_after=0.2)) as live:
        yield live
