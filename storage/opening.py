"""Who may do what, and what is stored, read for many at once.

When people open documents, many handshakes are in flight together (a page of links, a
reconnect storm after a restart, a thousand tabs); every few seconds the server re-checks every
open connection (server/liveaccess.py). Asking the database once per person and document costs
a worker-thread visit and several statements each; here one visit asks for all of them in a few
statements (`IN (...)`), on one connection: who the cookies and tokens stand for
(`sign_ins_for`), whether each document exists, its owner and the person's invitations
(`access_facts_for`), then the stored state of those the caller decided to open
(`stored_states`). Blocking: run in a worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam
from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage.models import ApiToken, Document, LoginSession, Share, Snapshot, Update, User, utcnow
from storage.sessions import is_active as session_active
from storage.shares import active
from storage.updates import read_stored

_DOCUMENTS = Document.__table__  # type: ignore[attr-defined]
_SHARES = Share.__table__  # type: ignore[attr-defined]
_SNAPSHOTS = Snapshot.__table__  # type: ignore[attr-defined]
_UPDATES = Update.__table__  # type: ignore[attr-defined]

# `IN (...)` with one bound parameter per id, in statements made once per size (a power of two:
# the ids are padded with their last): an "expanding" parameter would be rendered into the SQL
# again on every execution, which cost more than the reads.


def _slots(size: int) -> int:
    return 1 << max(0, size - 1).bit_length()


def _ids(prefix: str, values: Sequence[str]) -> dict[str, str]:
    padded = list(values) + [values[-1]] * (_slots(len(values)) - len(values))
    return {f"{prefix}{n}": value for n, value in enumerate(padded)}


def _in(column: Any, prefix: str, size: int) -> Any:
    return column.in_([bindparam(f"{prefix}{n}") for n in range(size)])


@functools.cache
def _owners(size: int) -> Any:
    return sa_select(_DOCUMENTS.c.id, _DOCUMENTS.c.owner_id).where(_in(_DOCUMENTS.c.id, "d", size))


@functools.cache
def _invitations(docs: int, users: int) -> Any:
    return sa_select(_SHARES.c.doc_id, _SHARES.c.user_id, _SHARES.c.role, _SHARES.c.expires_at,
                     _SHARES.c.revoked_at).where(_in(_SHARES.c.doc_id, "d", docs),
                                                 _in(_SHARES.c.user_id, "u", users))


@functools.cache
def _snapshots(size: int) -> Any:
    return sa_select(_SNAPSHOTS.c.doc_id, _SNAPSHOTS.c.upto_id, _SNAPSHOTS.c.data).where(
        _in(_SNAPSHOTS.c.doc_id, "d", size))


@functools.cache
def _positions(size: int) -> Any:
    return sa_select(_SNAPSHOTS.c.doc_id, _SNAPSHOTS.c.upto_id).where(
        _in(_SNAPSHOTS.c.doc_id, "d", size))


@functools.cache
def _tails(size: int) -> Any:
    return (sa_select(_UPDATES.c.doc_id, _UPDATES.c.id, _UPDATES.c.data)
            .where(_in(_UPDATES.c.doc_id, "d", size)).order_by(_UPDATES.c.id))


@dataclass(frozen=True)
class AccessFacts:
    """What decides a person's role on a document (see server.access.role_from)."""

    owner_id: str | None
    invited: list[str]  # the roles active invitations give the person (none read for its owner)


# asks per statement: far below every backend's limit on bound parameters
CHUNK = 128


@dataclass(frozen=True)
class SignIns:
    """What credentials stand for (see server.access.principal_from): only what is valid now,
    except shares by id, read as they are (a re-check tells an expired link from a revoked one)."""

    sessions: dict[str, User]  # hash of a session id -> the account of the active session
    tokens: dict[str, User]  # hash of a personal API token -> the account (token not revoked)
    links: dict[str, Share]  # hash of a link token -> its active link share
    shares: dict[str, Share]  # share id -> the share


def sign_ins_for(conn: Connection, *, sessions: Sequence[str] = (), tokens: Sequence[str] = (),
                 links: Sequence[str] = (), share_ids: Sequence[str] = ()) -> SignIns:
    """Sessions, personal tokens and link tokens (each by its hash), and shares by id, for many
    people at once: a statement per kind asked for (per `CHUNK`)."""
    found = SignIns({}, {}, {}, {})
    now = utcnow()
    with Session(bind=conn) as session:
        for part in _chunks(sessions):
            for row, user in session.exec(
                    select(LoginSession, User).join(User, col(User.id) == col(LoginSession.user_id))
                    .where(col(LoginSession.id).in_(part))):
                if session_active(row, now):
                    found.sessions[row.id] = user
        for part in _chunks(tokens):
            for token_hash, user in session.exec(
                    select(ApiToken.token_hash, User).join(User, col(User.id) == col(ApiToken.user_id))
                    .where(col(ApiToken.token_hash).in_(part), col(ApiToken.revoked_at).is_(None))):
                found.tokens[token_hash] = user
        for part in _chunks(links):
            for share in session.exec(select(Share).where(col(Share.token_hash).in_(part))):
                if share.token_hash is not None and active(share.expires_at, share.revoked_at, now):
                    found.links[share.token_hash] = share
        for part in _chunks(share_ids):
            for share in session.exec(select(Share).where(col(Share.id).in_(part))):
                found.shares[share.id] = share
    return found


def _chunks(values: Sequence[str]) -> list[list[str]]:
    unique = sorted(set(values))
    return [unique[start:start + CHUNK] for start in range(0, len(unique), CHUNK)]


def access_facts_for(conn: Connection,
                     asks: Sequence[tuple[str, str | None]]) -> list[AccessFacts | None]:
    """For each (document id, user id or None): its owner and the roles the user's active
    invitations give on it, None where no such document exists."""
    owners: dict[str, str | None] = {}
    invited: dict[tuple[str, str], list[str]] = {}
    for start in range(0, len(asks), CHUNK):
        part = asks[start:start + CHUNK]
        doc_ids = sorted({doc_id for doc_id, _ in part})
        for row in conn.execute(_owners(_slots(len(doc_ids))), _ids("d", doc_ids)):
            owners[row.id] = row.owner_id
        wanted = {(d, u) for d, u in part if u is not None and d in owners and owners[d] != u}
        if wanted:
            now = utcnow()
            docs = sorted({d for d, _ in wanted})
            users = sorted({u for _, u in wanted})
            statement = _invitations(_slots(len(docs)), _slots(len(users)))
            for row in conn.execute(statement, {**_ids("d", docs), **_ids("u", users)}):
                if (row.doc_id, row.user_id) in wanted and active(row.expires_at,
                                                                  row.revoked_at, now):
                    invited.setdefault((row.doc_id, row.user_id), []).append(row.role)
    found: list[AccessFacts | None] = []
    for doc_id, user_id in asks:
        if doc_id not in owners:
            found.append(None)
            continue
        roles = invited.get((doc_id, user_id), []) if user_id is not None else []
        found.append(AccessFacts(owner_id=owners[doc_id], invited=list(roles)))
    return found


def stored_states(conn: Connection, doc_ids: Sequence[str]) -> dict[str, list[bytes]]:
    """Each document's stored updates (its snapshot, then the log rows after it), as
    `storage.updates.load_updates` reads one: a document whose snapshot moved on while it
    was read (a compaction committed in between) is read again on its own."""
    states: dict[str, list[bytes]] = {}
    unique = sorted(set(doc_ids))
    for start in range(0, len(unique), CHUNK):
        part = unique[start:start + CHUNK]
        size, ids = _slots(len(part)), _ids("d", part)
        snapshots = {row.doc_id: (row.upto_id, row.data)
                     for row in conn.execute(_snapshots(size), ids)}
        tails: dict[str, list[bytes]] = {doc_id: [] for doc_id in part}
        for row in conn.execute(_tails(size), ids):
            snapshot = snapshots.get(row.doc_id)
            if snapshot is None or row.id > snapshot[0]:
                tails[row.doc_id].append(row.data)
        now = {row.doc_id: row.upto_id for row in conn.execute(_positions(size), ids)}
        for doc_id in part:
            snapshot = snapshots.get(doc_id)
            if now.get(doc_id) != (snapshot[0] if snapshot is not None else None):
                states[doc_id] = read_stored(conn, doc_id=doc_id).updates  # compacted meanwhile
            else:
                states[doc_id] = ([snapshot[1]] if snapshot is not None else []) + tails[doc_id]
    return states
