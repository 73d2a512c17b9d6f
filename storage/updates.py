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

from sqlalchemy import delete as sa_delete
from sqlalchemy import func, literal_column, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlmodel import Session, col, select

from storage import driver_reads
from storage.in_lists import bound, chunks, in_list, slots
from storage.models import QuarantinedUpdate, Snapshot, Update, utcnow

Merge = Callable[[list[bytes]], bytes]

# log rows deleted per statement when a compaction replaces them (SQLite binds at most 32,766
# parameters a statement)
FOLD_CHUNK = 5000

# A document's edit time (`updated_at`, "last edited" on the dashboard) moves only once it is
# this old: otherwise each keystroke rewrote the document's row and its index entry (on
# PostgreSQL a dead row version, WAL and vacuum work per keystroke, ~0.2 ms at the p99 of
# a commit). It is never more than this behind the last edit.
EDITED_RESOLUTION = timedelta(seconds=1)


@dataclass(frozen=True)
class Loaded:
    """A document's stored state: the snapshot (if any) followed by the log tail, in order."""

    updates: list[bytes]
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


@functools.cache
def _stored(size: int) -> Any:
    """Each document's snapshot and every row of its log, in one statement. A compaction deletes
    the rows it folds in the transaction that writes its snapshot, so whatever is in the log is
    not in the snapshot, whatever its id (ids give the rows' order, not whether the snapshot
    holds them: on PostgreSQL another process's row can commit after a higher id was read).
    One statement sees one moment (PostgreSQL's read committed takes a snapshot per
    statement; SQLite reads in an implicit transaction while the statement runs), so a
    compaction committed meanwhile is seen whole or not at all: never a snapshot without the
    rows it folded in, nor rows deleted under a snapshot not yet seen."""
    snapshots = (sa_select(_SNAPSHOTS.c.doc_id, _SNAPSHOTS.c.upto_id.label("id"),
                           _SNAPSHOTS.c.data, literal_column("0").label("part"))
                 .where(in_list(_SNAPSHOTS.c.doc_id, "d", size)))
    tails = (sa_select(_UPDATES.c.doc_id, _UPDATES.c.id, _UPDATES.c.data, literal_column("1"))
             .where(in_list(_UPDATES.c.doc_id, "d", size)))
    return union_all(snapshots, tails).order_by("part", "id")


def load_updates(engine: Engine, *, doc_id: str) -> Loaded:
    """The snapshot, then every row left in the log."""
    with engine.connect() as conn:
        return read_many(conn, [doc_id])[doc_id]


def read_many(conn: Connection, doc_ids: Sequence[str]) -> dict[str, Loaded]:
    """`load_updates` for many documents, on a connection the caller holds: one statement per
    `CHUNK` of them (a round trip on PostgreSQL, where the opener reads every document a crowd
    of handshakes asks for)."""
    found: dict[str, Loaded] = {}
    for part in chunks(doc_ids):
        stored: dict[str, list[bytes]] = {doc_id: [] for doc_id in part}
        tail: dict[str, int] = dict.fromkeys(part, 0)
        found_rows = driver_reads.rows(conn, _stored(slots(len(part))), bound("d", part))
        for doc_id, _position, data, part_of_tail in found_rows:
            stored[doc_id].append(data)
            tail[doc_id] += part_of_tail
        for doc_id in part:
            found[doc_id] = Loaded(updates=stored[doc_id], tail_count=tail[doc_id])
    return found


@dataclass(frozen=True)
class Folding:
    """What a compaction read at one moment: the stored parts (snapshot first) and the ids of
    the log rows among them, which its snapshot replaces."""

    parts: list[bytes]
    row_ids: list[int]


def read_for_compaction(engine: Engine, *, doc_id: str) -> Folding:
    """The document's snapshot and every log row, in one statement (one moment), with the
    rows' ids. Holds no lock: appends and loads go on meanwhile."""
    with engine.connect() as conn:
        found = driver_reads.rows(conn, _stored(1), bound("d", [doc_id]))
    return Folding(parts=[data for _, _, data, _ in found],
                   row_ids=[row_id for _, row_id, _, part in found if part])


def replace_with_snapshot(engine: Engine, *, doc_id: str, folding: Folding,
                          merged: bytes) -> int:
    """Store `merged` (the merge of `folding.parts`) as the document's snapshot and delete
    exactly the log rows it folded, in one short transaction. If any of them is gone, another
    compaction (another process, or an unload) folded it meanwhile into a snapshot this one
    would overwrite: nothing is written, and 0 returned. Otherwise the rows folded."""
    if not folding.row_ids:
        return 0
    with Session(engine) as session:
        deleted = 0
        for start in range(0, len(folding.row_ids), FOLD_CHUNK):
            ids = folding.row_ids[start:start + FOLD_CHUNK]
            result = session.execute(sa_delete(Update).where(
                col(Update.doc_id) == doc_id, col(Update.id).in_(ids)))
            deleted += result.rowcount  # type: ignore[attr-defined]
        if deleted != len(folding.row_ids):
            session.rollback()
            return 0
        upto = max(folding.row_ids)
        snap = session.get(Snapshot, doc_id)
        if snap is None:
            session.add(Snapshot(doc_id=doc_id, upto_id=upto, data=merged))
        else:
            snap.upto_id = max(snap.upto_id, upto)
            snap.data = merged
            snap.created_at = utcnow()
            session.add(snap)
        session.commit()
    return len(folding.row_ids)


def compact(engine: Engine, *, doc_id: str, merge: Merge) -> int:
    """Merge the snapshot and the whole current log of `doc_id` into a new snapshot.

    The merge runs between the read and the write, outside any transaction (on a large
    document it takes a tenth of a second or more, and nobody's commit waits for it); the
    write then replaces the snapshot and deletes exactly the rows that were read, so rows
    appended meanwhile stay in the log, whatever their ids (on PostgreSQL another process's
    row can commit after a row with a higher id). Returns rows folded in (0 if none, or if
    another compaction got there first)."""
    folding = read_for_compaction(engine, doc_id=doc_id)
    if not folding.row_ids:
        return 0
    return replace_with_snapshot(engine, doc_id=doc_id, folding=folding,
                                 merged=merge(folding.parts))


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
