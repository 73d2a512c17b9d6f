"""Backups while the server runs, and restoring them into an empty database.

Two formats, told apart by their first bytes:

- **SQLite**: a copy of the database file made with SQLite's online backup API, consistent even
  while `quire serve` writes (pages are copied under a read transaction, restarted if a writer
  changes them). Restored the same way, into a new file.
- **Portable** (any database, and the only one for PostgreSQL): JSON lines. A header line
  `{"quire_backup": 1, "revision": ...}`, then one line per row `{"table": ..., "row": {...}}`
  with binary columns in base64 and times in ISO 8601, read in one REPEATABLE READ transaction
  (a consistent snapshot on PostgreSQL). Restoring it inserts the rows in dependency order into
  an empty database at the same schema revision, then moves PostgreSQL's id sequences past them.

The search index is not backed up: it is rebuilt from the documents after a restore.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import LargeBinary, Table, insert, select, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from storage import migrations, models  # noqa: F401  (registers the tables)

FORMAT = 1
SQLITE_MAGIC = b"SQLite format 3\x00"


def _tables() -> list[Table]:
    """Quire's tables, parents before children (foreign keys)."""
    return list(SQLModel.metadata.sorted_tables)


class BackupError(Exception):
    """The backup cannot be made or restored (the message says why)."""


def backup(engine: Engine, path: Path, *, portable: bool = False) -> int:
    """Write a consistent backup of the database to `path`. Returns the documents it holds."""
    if engine.dialect.name == "sqlite" and not portable:
        source = engine.url.database
        if not source or source == ":memory:":
            raise BackupError("an in-memory database cannot be backed up")
        src = sqlite3.connect(source)
        dst = sqlite3.connect(path)
        try:
            src.backup(dst)
            return int(dst.execute("SELECT count(*) FROM document").fetchone()[0])
        finally:
            dst.close()
            src.close()
    with path.open("w", encoding="utf-8") as out:
        return _dump(engine, out)


def _dump(engine: Engine, out: IO[str]) -> int:
    documents = 0
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        out.write(json.dumps({"quire_backup": FORMAT,
                              "revision": migrations.current(engine) or migrations.head()}) + "\n")
        for table in _tables():
            for row in conn.execute(select(table)).mappings():
                out.write(json.dumps({"table": table.name, "row": _encode(dict(row))}) + "\n")
                documents += table.name == "document"
        conn.rollback()
    return documents


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    encoded: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, bytes | bytearray | memoryview):
            encoded[key] = {"b64": base64.b64encode(bytes(value)).decode()}
        elif isinstance(value, datetime):
            encoded[key] = {"time": value.isoformat()}
        else:
            encoded[key] = value
    return encoded


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    decoded: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, dict) and set(value) == {"b64"}:
            decoded[key] = base64.b64decode(value["b64"])
        elif isinstance(value, dict) and set(value) == {"time"}:
            decoded[key] = datetime.fromisoformat(value["time"])
        else:
            decoded[key] = value
    return decoded


def restore(path: Path, database_url: str) -> int:
    """Restore the backup at `path` into the (empty) database at `database_url`. Returns the
    documents restored. Refuses a database that already holds documents or accounts."""
    from storage.db import make_engine, normalise_url

    url = normalise_url(database_url)
    with path.open("rb") as f:
        magic = f.read(len(SQLITE_MAGIC))
    if magic == SQLITE_MAGIC:
        if not url.startswith("sqlite"):
            raise BackupError("a SQLite backup restores into SQLite; for PostgreSQL make a "
                              "portable backup (quire backup --portable)")
        target = url.split("///", 1)[-1]
        if Path(target).exists():
            existing = make_engine(url)
            try:
                if _has_data(existing):
                    raise BackupError("the target database is not empty")
            finally:
                existing.dispose()
        src = sqlite3.connect(path)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        engine = make_engine(url)  # any newer migrations
        try:
            return _count(engine)
        finally:
            engine.dispose()
    engine = make_engine(url)
    try:
        if _has_data(engine):
            raise BackupError("the target database is not empty")
        with path.open(encoding="utf-8") as f:
            return _load(engine, f)
    finally:
        engine.dispose()


def _has_data(engine: Engine) -> bool:
    with engine.connect() as conn:
        return any(conn.execute(text(f'SELECT 1 FROM "{t}" LIMIT 1')).first() is not None
                   for t in ("document", "user"))


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM document")).scalar_one())


def _lines(f: IO[str]) -> Iterator[dict[str, Any]]:
    number = 0
    try:
        for number, line in enumerate(f, 1):  # noqa: B007 (read in the error below)
            yield json.loads(line)
    except ValueError as exc:  # not JSON, or not UTF-8 at all
        raise BackupError(f"the backup is not JSON lines (near line {number or 1})") from exc


def _load(engine: Engine, f: IO[str]) -> int:
    lines = _lines(f)
    header = next(lines, None)
    if not isinstance(header, dict) or header.get("quire_backup") != FORMAT:
        raise BackupError("not a Quire backup")
    if header.get("revision") != migrations.current(engine):
        raise BackupError(f"the backup is at schema revision {header.get('revision')}, the "
                          f"database at {migrations.current(engine)}: restore with the Quire "
                          "release that made it, then upgrade")
    tables = _tables()
    batches: dict[str, list[dict[str, Any]]] = {table.name: [] for table in tables}
    for line in lines:
        name = line.get("table") if isinstance(line, dict) else None
        if name not in batches or not isinstance(line.get("row"), dict):
            raise BackupError(f"unknown table {name!r} in the backup")
        batches[name].append(_decode(line["row"]))
    with engine.begin() as conn:
        for table in tables:
            binary = [c.name for c in table.columns if isinstance(c.type, LargeBinary)]
            rows = batches[table.name]
            for row in rows:
                for column in binary:
                    if isinstance(row.get(column), str):  # tolerate plain base64
                        row[column] = base64.b64decode(row[column])
            for start in range(0, len(rows), 500):
                conn.execute(insert(table), rows[start:start + 500])
        if engine.dialect.name == "postgresql":
            for name in ("update", "version", "quarantined_update"):
                conn.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "
                    f"COALESCE((SELECT max(id) FROM \"{name}\"), 0) + 1, false)"))
    return len(batches["document"])
