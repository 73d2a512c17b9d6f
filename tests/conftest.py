"""Shared fixtures: databases (SQLite in a temp dir, PostgreSQL in a per-run database) and a real
Quire server on port 0 in the test's event loop (tests/support/servers.py starts it)."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from server.config import Settings
from storage.db import make_engine
from tests.support.servers import LiveServer, run_server

# What `make test-fast` (-m "not slow") leaves out, by node id prefix (a folder, a module or one
# test), with the reason: nearly all of the suite's time. The rest must stay under a minute on
# 2 busy cores. A new test that starts a subprocess, needs Redis, generates many cases or waits
# on purpose belongs here.
LIVE = "a live server per test, over five seconds together"
SLOW: dict[str, str] = {
    "tests/security/": "attacks on a real `quire serve` subprocess (one started per module)",
    "tests/interop/": "Node clients and the benchmark scenarios against subprocesses",
    "tests/server/test_crash.py": "SIGKILL and SIGTERM of a subprocess mid-stream",
    "tests/server/test_fuzz.py": "fuzzing a live room",
    "tests/server/test_soak.py": "twenty clients editing for a while",
    "tests/server/test_relay.py": "several processes through Redis",
    "tests/server/test_relay_channels.py": "several processes through Redis",
    "tests/server/test_relay_client.py": "Redis going away and coming back",
    "tests/server/test_versions_across_processes.py": "two processes through Redis",
    "tests/crdt/test_gate_property.py": "property tests (Hypothesis)",
    "tests/crdt/test_markdown_property.py": "property tests (Hypothesis)",
    "tests/crdt/test_markdown_limits.py": "timing bounds on large inputs",
    "tests/crdt/test_versions_bounded.py": "timing bounds on large inputs",
    "tests/crdt/test_text_diff.py::test_interleaved_words_are_fast_and_exact":
        "a timing bound on a large input",
    "tests/crdt/test_room_presence.py::test_browsers_echoing_everything_never_hit_a_limit":
        "120 simulated browsers echoing presence",
    "tests/server/test_slow_client.py": "a stalled reader fills its backlog until it is dropped",
    "tests/storage/test_backup.py": "backups while writing, and restores, on both engines",
    "tests/server/test_email.py": "digest windows and retries against an SMTP server",
    "tests/server/test_webhooks.py": "deliveries retried with back-off",
    "tests/server/test_accounts.py": "sign-ups and sign-ins hash passwords (argon2, slow on "
                                     "purpose); `quire user` subprocesses",
    "tests/server/test_markdown_api.py::test_cli_import_and_export": "`quire` subprocesses",
    "tests/server/test_images.py": "image decoding and re-encoding",
    "tests/server/test_search_api.py": "waits for the indexer's pause; restarts and reindexing",
    "tests/server/test_versions.py": "waits for automatic versions; compaction and restarts",
    "tests/storage/test_search.py": "every query on both engines over a shared corpus",
    # Each of these modules runs a live server per test, several seconds together: the fast
    # run keeps a few such modules (keystroke path, limits, suggestions, ...), not all of them.
    "tests/server/test_access_cache.py": LIVE,
    "tests/server/test_authorization.py": LIVE,
    "tests/server/test_bad_input.py": LIVE,
    "tests/server/test_cold_load.py": LIVE,
    "tests/server/test_comments_api.py": LIVE,
    "tests/server/test_document_copy.py": LIVE,
    "tests/server/test_editors_share.py": LIVE,
    "tests/server/test_notifications.py": LIVE,
    "tests/server/test_rest_documents.py": LIVE,
    "tests/server/test_ws_protocol.py": LIVE,
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if any(item.nodeid.startswith(prefix) for prefix in SLOW):
            item.add_marker(pytest.mark.slow)


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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema revision, made once per run: the fresh
    databases of `sqlite_url` and `db_url` are copies of it (migrating each from nothing costs
    a fifth of a second, hundreds of times a run)."""
    path = tmp_path_factory.mktemp("migrated") / "quire.db"
    make_engine(f"sqlite:///{path}").dispose()
    with contextlib.closing(sqlite3.connect(path)) as conn:  # everything in the main file
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def fresh_sqlite(migrated: Path, tmp_path: Path) -> str:
    """The URL of a new, empty SQLite database at the newest revision in `tmp_path`."""
    path = tmp_path / "quire.db"
    shutil.copyfile(migrated, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path, migrated_sqlite: Path) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        return fresh_sqlite(migrated_sqlite, tmp_path)
    base = request.getfixturevalue("pg_database")
    # a schema-free way to isolate tests: every table row is keyed by a random document id,
    # so tests sharing the run's database do not see each other's documents by id.
    return base


@pytest.fixture
def sqlite_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    """A new, empty SQLite database (tmp_path/quire.db) at the newest schema revision."""
    return fresh_sqlite(migrated_sqlite, tmp_path)


@pytest.fixture
async def server(sqlite_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2)) as live:
        yield live


@pytest.fixture
async def server_any_db(db_url: str) -> AsyncIterator[LiveServer]:
    async with run_server(Settings(database_url=db_url, unload_after=0.2)) as live:
        yield live
