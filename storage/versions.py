"""Version history: add, list, load and thin out saved states of a document.

Versions live in their own table, apart from the update log, so compacting the log never
touches them. They are stored as chains: a *checkpoint* row holds the full state, and each later
row of its chain holds only the delta since the previous row of the chain (a new checkpoint
starts every `checkpoint_every` rows). Loading a version is therefore one indexed query for at
most `checkpoint_every` rows — never a replay of the log. All data is zlib-compressed.

States and deltas are opaque bytes here. Deleting a row in the middle of a chain folds its delta
into the next row with a `merge` function supplied by the caller (the CRDT layer), just as log
compaction does.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, TypedDict, get_args

from sqlalchemy import func, insert, update
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Document, Version, utcnow

Merge = Callable[[list[bytes]], bytes]

Kind = Literal["auto", "named", "restore"]
KINDS: tuple[Kind, ...] = get_args(Kind)


Author = str | Mapping[str, Any]  # a name (older rows), or {"id", "name", "username"}


class Person(TypedDict):
    """One author of a version, told apart; id and username are None for rows written before
    they were recorded and for people without an account."""

    id: str | None
    name: str
    username: str | None


@dataclass(frozen=True)
class VersionInfo:
    """A version without its data (what lists show)."""

    id: int
    doc_id: str
    created_at: datetime
    kind: Kind
    name: str | None
    authors: list[str]  # display names (not unique: see `people`)
    size: int
    checkpoint: bool  # stored as a full state (True) or as a delta (False)
    people: list[Person] = field(default_factory=list)  # who, told apart
    # `add_version` stored nothing: the newest version already held this state (it gained the
    # authors)
    merged: bool = False


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) else None


def people_of(authors: Sequence[Any] | None) -> list[Person]:
    """The stored authors (names, or {"id", "name", "username"}) as person dicts."""
    people: list[Person] = []
    for entry in authors or []:
        if isinstance(entry, str):
            people.append(Person(id=None, name=entry, username=None))
        elif isinstance(entry, Mapping) and isinstance(name := entry.get("name"), str):
            people.append(Person(id=_str_or_none(entry.get("id")), name=name,
                                 username=_str_or_none(entry.get("username"))))
    return people


# more columns than sqlmodel's typed select() overloads take: rows are read by _info()
_INFO_COLUMNS: tuple[Any, ...] = (Version.id, Version.doc_id, Version.created_at, Version.kind,
                                  Version.name, Version.authors, Version.size, Version.chain_id)


def _utc(when: datetime) -> datetime:
    # SQLite hands back naive datetimes; they were stored as UTC.
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _info(row: Sequence[Any]) -> VersionInfo:
    vid, doc_id, created_at, kind, name, authors, size, chain_id = row
    people = people_of(authors)
    return VersionInfo(id=vid, doc_id=doc_id, created_at=_utc(created_at), kind=kind, name=name,
                       authors=[p["name"] for p in people], size=size,
                       checkpoint=chain_id == vid, people=people)


def _lock_document(session: Session, doc_id: str) -> bool:
    """Take the document's write lock (a row lock on PostgreSQL, the write lock on SQLite) so
    that chains of one document are never extended or folded by two writers at once."""
    result = session.exec(
        update(Document).where(col(Document.id) == doc_id).values(updated_at=Document.updated_at)
    )
    return result.rowcount > 0


def _merge_into_newest(session: Session, doc_id: str, authors: Sequence[Author],
                       covered_by: Callable[[bytes], bool]) -> VersionInfo | None:
    """The newest version, given `authors` too, if it is automatic and covers the state (see
    `add_version`); None otherwise. (Inside the document's lock.)"""
    newest = session.execute(
        sa_select(*_INFO_COLUMNS, col(Version.state_vector)).where(col(Version.doc_id) == doc_id)
        .order_by(col(Version.id).desc()).limit(1)
    ).first()
    if newest is None:
        return None
    info, state_vector = _info(newest[:-1]), newest[-1]
    if info.kind != "auto" or state_vector is None or not covered_by(state_vector):
        return None
    stored = list(newest[5] or [])  # the authors column, as stored
    known = {_author_key(a) for a in stored}
    added = [a if isinstance(a, str) else dict(a) for a in authors if _author_key(a) not in known]
    if added:
        session.execute(update(Version).where(col(Version.id) == info.id)
                        .values(authors=stored + added))
    people = people_of(stored + added)
    return replace(info, authors=[p["name"] for p in people], people=people, merged=True)


def _author_key(author: Any) -> tuple[str | None, str | None]:
    if isinstance(author, str):
        return None, author
    return _str_or_none(author.get("id")), _str_or_none(author.get("name"))


def add_version(
    engine: Engine,
    *,
    doc_id: str,
    state: bytes,
    kind: Kind = "auto",
    name: str | None = None,
    authors: Sequence[Author] = (),
    delta: bytes | None = None,
    base_id: int | None = None,
    checkpoint_every: int = 32,
    created_at: datetime | None = None,
    state_vector: bytes | None = None,
    covered_by: Callable[[bytes], bool] | None = None,
) -> VersionInfo | None:
    """Store a version of `doc_id` whose full state is `state` (its Yjs state vector
    `state_vector`, kept to compare later versions with).

    With `covered_by`, if the document's newest version is an automatic one whose state vector
    `covered_by` accepts (it holds everything `state` does: another process cut it), nothing is
    stored: that version gains `authors` and is returned with `merged` set.

    If `delta` (the change since version `base_id`) is given, `base_id` is still the document's
    newest version and its chain is shorter than `checkpoint_every`, only the delta is stored;
    otherwise the full state starts a new chain. Returns None if the document does not exist.
    `authors` are names or {"id", "name", "username"} (kept as given, in the JSON column).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown version kind {kind!r}")
    with Session(engine) as session:
        if not _lock_document(session, doc_id):
            return None
        if covered_by is not None:
            merged = _merge_into_newest(session, doc_id, authors, covered_by)
            if merged is not None:
                session.commit()
                return merged
        chain_id: int | None = None
        if delta is not None and base_id is not None:
            latest = session.exec(
                select(Version.id, Version.chain_id)
                .where(Version.doc_id == doc_id)
                .order_by(col(Version.id).desc())
                .limit(1)
            ).first()
            if latest is not None and latest[0] == base_id:
                length = session.exec(
                    select(func.count()).select_from(Version).where(Version.chain_id == latest[1])
                ).one()
                if length < checkpoint_every:
                    chain_id = latest[1]
        when = created_at or utcnow()
        vid = session.execute(
            insert(Version).returning(col(Version.id)),
            [{"doc_id": doc_id, "created_at": when, "kind": kind, "name": name,
              "authors": [a if isinstance(a, str) else dict(a) for a in authors],
              "size": len(state), "chain_id": chain_id or 0, "state_vector": state_vector,
              # a chain is only extended when there is a delta
              "data": zlib.compress(state if chain_id is None or delta is None else delta)}],
        ).scalar_one()
        if chain_id is None:  # a checkpoint heads its own chain
            session.execute(update(Version).where(col(Version.id) == vid).values(chain_id=vid))
        session.commit()
        people = people_of(authors)
        return VersionInfo(id=vid, doc_id=doc_id, created_at=_utc(when), kind=kind, name=name,
                           authors=[p["name"] for p in people], size=len(state),
                           checkpoint=chain_id is None, people=people)


def list_versions(
    engine: Engine, *, doc_id: str, limit: int = 50, offset: int = 0
) -> tuple[list[VersionInfo], int]:
    """Newest first, without data. Returns (page, total)."""
    with Session(engine) as session:
        total = session.exec(
            select(func.count()).select_from(Version).where(Version.doc_id == doc_id)
        ).one()
        rows = session.exec(
            select(*_INFO_COLUMNS)
            .where(Version.doc_id == doc_id)
            .order_by(col(Version.id).desc())
            .offset(offset)
            .limit(limit)
        ).all()
        return [_info(r) for r in rows], int(total)


def get_version(engine: Engine, *, doc_id: str, version_id: int) -> VersionInfo | None:
    with Session(engine) as session:
        row = session.exec(
            select(*_INFO_COLUMNS).where(Version.doc_id == doc_id, Version.id == version_id)
        ).first()
        return _info(row) if row is not None else None


def load_version(engine: Engine, *, doc_id: str, version_id: int) -> list[bytes] | None:
    """The parts that make up a version: its checkpoint's state, then every delta of the chain
    up to the version, in order (apply them in turn). None if there is no such version."""
    with Session(engine) as session:
        chain_id = session.exec(
            select(Version.chain_id).where(Version.doc_id == doc_id, Version.id == version_id)
        ).first()
        if chain_id is None:
            return None
        rows = session.exec(
            select(Version.data)
            .where(Version.chain_id == chain_id, col(Version.id) <= version_id)
            .order_by(col(Version.id))
        ).all()
        return [zlib.decompress(data) for data in rows]


def storage_bytes(engine: Engine, *, doc_id: str) -> int:
    """Bytes of version data stored for a document (compressed)."""
    with Session(engine) as session:
        total = session.exec(
            select(func.coalesce(func.sum(func.length(Version.data)), 0)).where(
                Version.doc_id == doc_id
            )
        ).one()
        return int(total)


# ---- retention -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tier:
    """Automatic versions older than `age` seconds are kept at most one per `every` seconds."""

    age: float
    every: float


def select_expired(
    versions: Sequence[tuple[int, datetime, str, str | None]],
    tiers: Sequence[Tier],
    now: datetime,
) -> list[int]:
    """Which versions a retention policy removes. `versions` are (id, created_at, kind, name).

    Named versions, restores and any version with a name are kept forever, and so is the
    newest version. Within each time bucket of a tier (aligned on the epoch, so the choice is
    stable from one run to the next) the newest automatic version is kept.
    """
    if not versions or not tiers:
        return []
    ordered = sorted(tiers, key=lambda t: t.age)
    newest = max(v[0] for v in versions)
    kept: set[tuple[int, int]] = set()
    expired: list[int] = []
    for vid, created_at, kind, name in sorted(versions, key=lambda v: v[0], reverse=True):
        if kind != "auto" or name is not None:
            continue
        age = (now - _utc(created_at)).total_seconds()
        tier = next((i for i in range(len(ordered) - 1, -1, -1) if age >= ordered[i].age), None)
        if tier is None:
            continue
        bucket = (tier, int(_utc(created_at).timestamp() // ordered[tier].every))
        if bucket in kept and vid != newest:
            expired.append(vid)
        else:
            kept.add(bucket)
    return sorted(expired)


def prune_versions(
    engine: Engine,
    *,
    doc_id: str,
    tiers: Sequence[Tier],
    merge: Merge,
    squash: Merge,
    now: datetime | None = None,
) -> int:
    """Apply the retention policy to one document. Returns how many versions were removed."""
    if not tiers:
        return 0
    now = now or utcnow()
    youngest = min(t.age for t in tiers)
    with Session(engine) as session:
        candidates = session.exec(
            select(Version.id, Version.created_at, Version.kind, Version.name)
            .where(Version.doc_id == doc_id)
            .order_by(col(Version.id))
        ).all()
    if not candidates:
        return 0
    old = [(vid, created_at, kind, name) for vid, created_at, kind, name in candidates
           if vid is not None and (now - _utc(created_at)).total_seconds() >= youngest]
    newest = candidates[-1][0]
    expired = [v for v in select_expired(old, tiers, now) if v != newest]
    return delete_versions(engine, doc_id=doc_id, version_ids=expired, merge=merge,
                           squash=squash)


def delete_versions(
    engine: Engine, *, doc_id: str, version_ids: Sequence[int], merge: Merge, squash: Merge
) -> int:
    """Delete versions, folding their deltas into the versions that follow them.

    One short transaction per chain (at most `checkpoint_every` rows), so thinning many
    versions never holds the database's write lock for long."""
    if not version_ids:
        return 0
    with Session(engine) as session:
        rows = session.exec(
            select(Version.chain_id, Version.id)
            .where(Version.doc_id == doc_id, col(Version.id).in_(list(version_ids)))
        ).all()
    by_chain: dict[int, list[int]] = {}
    for chain_id, vid in rows:
        assert vid is not None  # a stored row has its id
        by_chain.setdefault(chain_id, []).append(vid)
    removed = 0
    for chain_id, ids in sorted(by_chain.items()):
        with Session(engine) as session:
            if not _lock_document(session, doc_id):
                break
            removed += _delete_in_chain(session, chain_id, set(ids), merge=merge, squash=squash)
            session.commit()
    return removed


def _delete_in_chain(session: Session, chain_id: int, doomed: set[int], *, merge: Merge,
                     squash: Merge) -> int:
    """Delete rows `doomed` of one chain, keeping every other version loadable.

    A run of deleted rows is folded into the next kept row: its data becomes
    merge(run + [its data]) — still a delta against what precedes the run — or, if the run
    began at the checkpoint, a full state (`squash`) and that row heads the chain instead.
    A run at the end of the chain has no successor and simply goes.
    """
    rows = session.exec(
        select(Version).where(Version.chain_id == chain_id).order_by(col(Version.id))
    ).all()
    removed = 0
    run: list[Version] = []
    kept: list[Version] = []
    for row in rows:
        if row.id in doomed:
            run.append(row)
            continue
        if run:
            parts = [zlib.decompress(r.data) for r in run] + [zlib.decompress(row.data)]
            fold = squash if run[0] is rows[0] else merge
            row.data = zlib.compress(fold(parts))
            session.add(row)
        kept.append(row)
        for r in run:
            session.delete(r)
        removed += len(run)
        run = []
    for r in run:  # a trailing run: nothing after it depends on it
        session.delete(r)
    removed += len(run)
    if kept and kept[0] is not rows[0]:
        head = kept[0].id
        assert head is not None  # a stored row has its id
        for row in kept:  # the first kept row now holds the full state
            row.chain_id = head
            session.add(row)
    session.flush()
    return removed
