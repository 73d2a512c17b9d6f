"""The update log: append (many at once), load (snapshot + tail), compact.

Updates are opaque bytes. Compaction is given a `merge` function by its caller (the CRDT layer)
that turns a list of updates into one equivalent update.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, func, update
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlmodel import Session, col, select

from storage.models import Document, QuarantinedUpdate, Snapshot, Update, utcnow

Merge = Callable[[list[bytes]], bytes]


@dataclass(frozen=True)
class Loaded:
    """A document's stored state: the snapshot (if any) followed by the log tail, in order."""

    updates: list[bytes]
    last_id: int  # log position of the last update included (0 when none)
    tail_count: int  # how many log rows follow the snapshot


def append_updates(engine: Engine, rows: Sequence[tuple[str, bytes]]) -> None:
    """Append `(doc_id, update)` rows in one transaction, marking their documents as edited.

    This runs once per group commit on the hot path of every keystroke, so it talks to the
    driver directly (two prepared statements) instead of through SQLAlchemy's compiler, which
    cost more than the commit itself."""
    if not rows:
        return
    sqlite = engine.dialect.name == "sqlite"
    raw = engine.raw_connection()
    try:
        _write_rows(raw.cursor(), rows, sqlite=sqlite)
        raw.commit()
    except BaseException:
        raw.rollback()
        raise
    finally:
        raw.close()


def append_updates_now(conn: sqlite3.Connection, rows: Sequence[tuple[str, bytes]]) -> bool:
    """SQLite, on a connection from `storage.db.sqlite_nowait_connection`: append like
    `append_updates`, but never wait for the write lock. False, and nothing written, when
    another connection holds it."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) in (sqlite3.SQLITE_BUSY,
                                                                    sqlite3.SQLITE_LOCKED):
            return False
        raise
    try:
        _write_rows(conn.cursor(), rows, sqlite=True)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return True


def _write_rows(cursor: DBAPICursor | sqlite3.Cursor, rows: Sequence[tuple[str, bytes]], *, sqlite: bool) -> None:
    mark = "?" if sqlite else "%s"
    now = utcnow()
    # stored as SQLAlchemy stores DateTime on each backend (naive UTC)
    stamp: object = now.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else now.replace(tzinfo=None)
    doc_ids = sorted({d for d, _ in rows})
    cursor.executemany(
        f'INSERT INTO "update" (doc_id, data, created_at) VALUES ({mark}, {mark}, {mark})',
        [(d, u, stamp) for d, u in rows],
    )
    cursor.execute(
        f"UPDATE document SET updated_at = {mark} WHERE id IN "
        f"({', '.join([mark] * len(doc_ids))})",
        (stamp, *doc_ids),
    )


# Core statements, compiled once: opening a document reads through these, and the ORM's
# per-query work cost several times the read itself (server/ws.py opens thousands a second).
_UPDATES = Update.__table__  # type: ignore[attr-defined]
_SNAPSHOTS = Snapshot.__table__  # type: ignore[attr-defined]
_READ_SNAPSHOT = sa_select(_SNAPSHOTS.c.upto_id, _SNAPSHOTS.c.data).where(
    _SNAPSHOTS.c.doc_id == bindparam("doc_id"))
_READ_SNAPSHOT_POSITION = sa_select(_SNAPSHOTS.c.upto_id).where(
    _SNAPSHOTS.c.doc_id == bindparam("doc_id"))
_READ_TAIL = (sa_select(_UPDATES.c.id, _UPDATES.c.data)
              .where(_UPDATES.c.doc_id == bindparam("doc_id"), _UPDATES.c.id > bindparam("after"))
              .order_by(_UPDATES.c.id))


def load_updates(engine: Engine, *, doc_id: str, after_id: int = 0) -> Loaded:
    """The snapshot plus every later log row (or only rows after `after_id`, without snapshot).

    The snapshot and the rows are two reads, and each may see a different moment (SQLite
    without an explicit read transaction, PostgreSQL's read committed): a compaction committed
    between them would fold rows into a snapshot this read did not see and delete them from the
    log it reads next, and they would be missing. So the snapshot is read again after the rows;
    if it moved on, the whole read is made again."""
    with engine.connect() as conn:
        return read_stored(conn, doc_id=doc_id, after_id=after_id)


def read_stored(conn: Connection, *, doc_id: str, after_id: int = 0) -> Loaded:
    """`load_updates` on a connection the caller holds (and may read more on)."""
    for _ in range(20):
        updates: list[bytes] = []
        start = after_id
        upto = None
        if after_id == 0:
            snap = conn.execute(_READ_SNAPSHOT, {"doc_id": doc_id}).first()
            if snap is not None:
                updates.append(snap.data)
                start = upto = snap.upto_id
        rows = conn.execute(_READ_TAIL, {"doc_id": doc_id, "after": start}).all()
        if after_id == 0:
            now = conn.execute(_READ_SNAPSHOT_POSITION, {"doc_id": doc_id}).scalar()
            if now != upto:
                continue  # compacted in between: read again
        updates.extend(r[1] for r in rows)
        last_id = rows[-1][0] if rows else start
        assert last_id is not None  # a stored row has its id
        return Loaded(updates=updates, last_id=last_id, tail_count=len(rows))
    raise RuntimeError(f"document {doc_id}: the log kept being compacted while it was read")


def compact(engine: Engine, *, doc_id: str, merge: Merge) -> int:
    """Merge the snapshot and the whole current log of `doc_id` into a new snapshot.

    One transaction: the snapshot is replaced and exactly the log rows it covers are deleted, so
    rows appended concurrently (ids above the ones read) stay in the log. Returns rows folded in.
    """
    with Session(engine) as session:
        # Take the document's write lock first (a row lock on PostgreSQL, the write lock on
        # SQLite) so two processes never compact the same document at once.
        session.execute(
            update(Document).where(col(Document.id) == doc_id).values(updated_at=Document.updated_at)
        )
        snap = session.get(Snapshot, doc_id)
        start = snap.upto_id if snap else 0
        rows = session.exec(
            select(Update.id, Update.data)
            .where(Update.doc_id == doc_id, col(Update.id) > start)
            .order_by(col(Update.id))
        ).all()
        if not rows:
            return 0
        parts = ([snap.data] if snap else []) + [r[1] for r in rows]
        upto = rows[-1][0]
        assert upto is not None  # a stored row has its id
        merged = merge(parts)
        if snap is None:
            session.add(Snapshot(doc_id=doc_id, upto_id=upto, data=merged))
        else:
            snap.upto_id = upto
            snap.data = merged
            snap.created_at = utcnow()
            session.add(snap)
        session.execute(
            sa_delete(Update).where(col(Update.doc_id) == doc_id, col(Update.id) <= upto)
        )
        session.commit()
        return len(rows)


def quarantine(engine: Engine, *, doc_id: str, data: bytes, reason: str) -> bool:
    """Keep a copy of stored update bytes that could not be read safely (the document opens
    without them), once per distinct content. True if it was not kept already."""
    import hashlib

    digest = hashlib.sha256(data).hexdigest()
    with Session(engine) as session:
        found = session.exec(select(QuarantinedUpdate.id).where(
            QuarantinedUpdate.doc_id == doc_id, QuarantinedUpdate.sha256 == digest)).first()
        if found is not None:
            return False
        session.add(QuarantinedUpdate(doc_id=doc_id, sha256=digest, data=data,
                                      reason=reason[:500]))
        session.commit()
        return True


def quarantined(engine: Engine, *, doc_id: str) -> list[QuarantinedUpdate]:
    """What was kept aside for a document, oldest first."""
    with Session(engine) as session:
        return list(session.exec(select(QuarantinedUpdate)
                                 .where(QuarantinedUpdate.doc_id == doc_id)
                                 .order_by(col(QuarantinedUpdate.id))).all())


def log_length(engine: Engine, *, doc_id: str) -> int:
    """How many log rows the document has beyond its snapshot."""
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count()).select_from(Update).where(Update.doc_id == doc_id)
            ).one()
        )
