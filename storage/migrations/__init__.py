"""Schema migrations (Alembic): every change to the tables is a revision in `versions/`.

`upgrade(engine)` brings any Quire database to the newest revision. `storage.db.make_engine`
calls it, so `quire serve`, the CLI and the tests all run on the current schema; it is cheap when
there is nothing to do (one query). Two processes starting at once do not race: the upgrade runs
under a lock (PostgreSQL: an advisory lock; SQLite: an exclusive lock on a file beside the
database), and the second finds nothing left to do.

A database made before migrations existed has Quire's tables but no `alembic_version`: it is
recognised by its `document` table, given any table it lacks, and stamped at the baseline
revision (0001, the schema those releases made), then upgraded like any other.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

log = logging.getLogger("quire.migrations")

HERE = Path(__file__).resolve().parent
BASELINE = "0001"
# what the baseline revision creates: a database adopted at it gets the ones it lacks
BASELINE_TABLES = ("user", "apitoken", "document", "login_session", "share", "snapshot",
                   "update", "version", "quarantined_update")
PG_LOCK_KEY = 0x5155495245  # "QUIRE": one advisory lock for schema changes


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head() -> str:
    """The newest revision this code knows."""
    heads = ScriptDirectory.from_config(_config()).get_heads()
    assert len(heads) == 1, f"migrations have {len(heads)} heads: merge them"
    return heads[0]


def current(engine: Engine) -> str | None:
    """The database's revision (None: not under migrations yet, or empty)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextlib.contextmanager
def _locked(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PG_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PG_LOCK_KEY})
                conn.commit()
        return
    path = engine.url.database
    if not path or path == ":memory:":
        yield
        return
    import fcntl

    with open(f"{path}.migrate-lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def upgrade(engine: Engine, revision: str = "head") -> str:
    """Bring the database to `revision` (the newest by default). Returns the revision it is at."""
    target = head() if revision == "head" else revision
    # the usual case: one query. On SQLite even that waits for the lock: the first connections
    # to a new file switch it to WAL, which fails outright while another is upgrading it
    if engine.dialect.name != "sqlite" and current(engine) == target:
        return target
    with _locked(engine):
        with engine.begin() as conn:
            now = MigrationContext.configure(conn).get_current_revision()
            if now is None and inspect(conn).has_table("document"):
                _adopt(conn)
            if MigrationContext.configure(conn).get_current_revision() != target:
                log.info("upgrading the database schema to %s", target)
                command.upgrade(_config(conn), revision)
    return target


def _adopt(conn: Connection) -> None:
    """A database from before migrations: add what it lacks, then stamp it at the baseline."""
    from importlib import import_module

    from sqlmodel import SQLModel

    from storage import models  # noqa: F401  (registers the tables)

    log.info("a database from before migrations: adopting it at revision %s", BASELINE)
    metadata = SQLModel.metadata
    metadata.create_all(conn, tables=[metadata.tables[name] for name in BASELINE_TABLES])
    baseline = import_module("storage.migrations.versions.0001_baseline")
    from alembic.operations import Operations

    with Operations.context(MigrationContext.configure(conn)):
        baseline.create_search_index()
    command.stamp(_config(conn), BASELINE)
