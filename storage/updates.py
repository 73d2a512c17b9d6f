"""The update log: append (many at once), load (snapshot + tail), compact.

Updates are opaque bytes. Compaction is given a `merge` function by its caller (the CRDT layer)
that turns a list of updates into one equivalent update.
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, literal_column, union_all, update
from sqlalchemy import delete as sa_delete
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlmodel import Session, col, select

from storage import driver_reads
from storage.in_lists import bound, chunks, in_list, slots
from storage.models import Document, QuarantinedUpdate, Snapshot, Update, utcnow

Merge = Callable[[list[bytes]], bytes]

# A document's edit time (`updated_at`, "last edited" on the dashboard) moves only once it is
# this old: otherwise each keystroke rewrote the document's row and its index entry (on
# PostgreSQL a dead row version, WAL and vacuum work per keystroke, ~0.2 ms at the p99 of
# a commit). It is never more than this behind the last edit.
EDITED_RESOLUTION = timedelta(seconds=1)


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

    def stored(moment: datetime) -> object:  # as SQLAlchemy stores DateTime (naive UTC)
        return moment.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else moment.replace(tzinfo=None)

    now = utcnow()
    stamp, before = stored(now), stored(now - EDITED_RESOLUTION)
    doc_ids = sorted({d for d, _ in rows})
    cursor.executemany(
        f'INSERT INTO "update" (doc_id, data, created_at) VALUES ({mark}, {mark}, {mark})',
        [(d, u, stamp) for d, u in rows],
    )
    cursor.execute(
        f"UPDATE document SET updated_at = {mark} WHERE id IN "
        f"({', '.join([mark] * len(doc_ids))}) AND updated_at < {mark}",
        (stamp, *doc_ids, before),
    )


# Core statements, compiled once: opening a document reads through these, and the ORM's
# per-query work cost several times the read itself (server/ws.py opens thousands a second).
_UPDATES = Update.__table__  # type: ignore[attr-defined]
_SNAPSHOTS = Snapshot.__table__  # type: ignore[attr-defined]
_READ_TAIL = (sa_select(_UPDATES.c.id, _UPDATES.c.data)
              .where(_UPDATES.c.doc_id == bindparam("doc_id"), _UPDATES.c.id > bindparam("after"))
              .order_by(_UPDATES.c.id))


@functools.cache
def _stored(size: int) -> Any:
    """Each document's snapshot and the log rows after it, in one statement. One statement sees
    one moment (PostgreSQL's read committed takes a snapshot per statement; SQLite reads in an
    implicit transaction while the statement runs), so a compaction committed meanwhile is seen
    whole or not at all: never a snapshot without the rows it folded in, nor rows deleted under
    a snapshot not yet seen."""
    snapshots = (sa_select(_SNAPSHOTS.c.doc_id, _SNAPSHOTS.c.upto_id.label("id"),
                           _SNAPSHOTS.c.data, literal_column("0").label("part"))
                 .where(in_list(_SNAPSHOTS.c.doc_id, "d", size)))
    tails = (sa_select(_UPDATES.c.doc_id, _UPDATES.c.id, _UPDATES.c.data, literal_column("1"))
             .select_from(_UPDATES.outerjoin(_SNAPSHOTS,
                                             _SNAPSHOTS.c.doc_id == _UPDATES.c.doc_id))
             .where(in_list(_UPDATES.c.doc_id, "d", size),
                    _UPDATES.c.id > func.coalesce(_SNAPSHOTS.c.upto_id, 0)))
    return union_all(snapshots, tails).order_by("part", "id")


def load_updates(engine: Engine, *, doc_id: str, after_id: int = 0) -> Loaded:
    """The snapshot plus every later log row (or only rows after `after_id`, without snapshot)."""
    with engine.connect() as conn:
        return read_stored(conn, doc_id=doc_id, after_id=after_id)


def read_stored(conn: Connection, *, doc_id: str, after_id: int = 0) -> Loaded:
    """`load_updates` on a connection the caller holds (and may read more on)."""
    if after_id == 0:
        return read_many(conn, [doc_id])[doc_id]
    rows = conn.execute(_READ_TAIL, {"doc_id": doc_id, "after": after_id}).all()
    return Loaded(updates=[r[1] for r in rows], last_id=rows[-1][0] if rows else after_id,
                  tail_count=len(rows))


def read_many(conn: Connection, doc_ids: Sequence[str]) -> dict[str, Loaded]:
    """`read_stored` for many documents: one statement per `CHUNK` of them (a round trip on
    PostgreSQL, where the opener reads every document a crowd of handshakes asks for)."""
    found: dict[str, Loaded] = {}
    for part in chunks(doc_ids):
        stored: dict[str, list[bytes]] = {doc_id: [] for doc_id in part}
        last: dict[str, int] = dict.fromkeys(part, 0)
        tail: dict[str, int] = dict.fromkeys(part, 0)
        found_rows = driver_reads.rows(conn, _stored(slots(len(part))), bound("d", part))
        for doc_id, row_id, data, part_of_tail in found_rows:
            stored[doc_id].append(data)
            last[doc_id] = row_id
            tail[doc_id] += part_of_tail
        for doc_id in part:
            found[doc_id] = Loaded(updates=stored[doc_id], last_id=last[doc_id],
                                   tail_count=tail[doc_id])
    return found


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
