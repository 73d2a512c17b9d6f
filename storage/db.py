"""Database engine from a URL: SQLite (WAL) by default, PostgreSQL by URL.

Storage is synchronous SQLModel; callers run it off the event loop (the
update log's single writer thread is in `store.py`; other reads and writes use worker threads).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry
from sqlmodel import Session, create_engine, select

from storage import migrations, models  # noqa: F401  (registers the tables on SQLModel.metadata)


def normalise_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_pragmas(busy_timeout_ms: int) -> Callable[[DBAPIConnection, ConnectionPoolEntry], None]:
    def on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        # the timeout first: switching a new file to WAL takes a lock that others may hold
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    return on_connect


def make_engine(url: str, *, busy_timeout_ms: int = 5000) -> Engine:
    """Create an engine for `url`, its schema brought to the newest revision (migrations).

    `busy_timeout_ms`: how long SQLite waits for a lock before a write fails."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(busy_timeout_ms))
    else:
        engine = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
    migrations.upgrade(engine)  # the tables, as the newest revision has them
    return engine


def sqlite_nowait_connection(engine: Engine) -> sqlite3.Connection | None:
    """For a SQLite file: a connection of its own that never waits for a lock (busy timeout 0)
    and never checkpoints by itself, so a commit on it takes a bounded, short time (the WAL
    append; with synchronous=NORMAL nothing is fsynced at commit). None for other databases."""
    if engine.dialect.name != "sqlite":
        return None
    path = engine.url.database
    if not path or path == ":memory:":
        return None
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA wal_autocheckpoint=0")
    return conn


def checkpoint(engine: Engine) -> None:
    """SQLite: copy what the WAL holds into the database file, as far as readers allow."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def ping(engine: Engine) -> None:
    """Raise if the database cannot answer a trivial query."""
    with engine.connect() as conn:
        conn.exec_driver_sql("SELECT 1")


def sample_ids(engine: Engine) -> dict[str, str]:
    """An existing id of a document and of a user, where there is one (to warm caches with)."""
    found: dict[str, str] = {}
    with Session(engine) as session:
        for key, column in (("document", models.Document.id), ("user", models.User.id)):
            value = session.exec(select(column).limit(1)).first()
            if value is not None:
                found[key] = value
    return found
