"""Who may do what, and what is stored, read for many at once.

When people open documents, many handshakes are in flight together (a page of links, a
reconnect storm after a restart, a thousand tabs); every few seconds the server re-checks every
open connection (server/liveaccess.py). Asking the database once per person and document costs
a worker-thread visit and several statements each; here one visit asks for all of them in a few
statements (`IN (...)`), on one connection: who the cookies and tokens stand for
(`sign_ins_for`), whether each document exists, its owner and the person's invitations
(`access_facts_for`); the stored state of those the caller decided to open is
`storage.updates.read_many`. Blocking: the opener runs them on its thread on PostgreSQL and on
the loop on SQLite, the re-check on a worker thread.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from storage import driver_reads
from storage.in_lists import CHUNK, bound, chunks, in_list, slots
from storage.models import ApiToken, Document, LoginSession, Share, User, utcnow
from storage.sessions import is_active as session_active
from storage.shares import active

_DOCUMENTS = Document.__table__  # type: ignore[attr-defined]
_SHARES = Share.__table__  # type: ignore[attr-defined]


@functools.cache
def _owners(size: int) -> Any:
    return sa_select(_DOCUMENTS.c.id, _DOCUMENTS.c.owner_id).where(in_list(_DOCUMENTS.c.id, "d", size))


@functools.cache
def _invitations(docs: int, users: int) -> Any:
    return sa_select(_SHARES.c.doc_id, _SHARES.c.user_id, _SHARES.c.role, _SHARES.c.expires_at,
                     _SHARES.c.revoked_at).where(in_list(_SHARES.c.doc_id, "d", docs),
                                                 in_list(_SHARES.c.user_id, "u", users))


@dataclass(frozen=True)
class AccessFacts:
    """What decides a person's role on a document (see server.access.role_from)."""

    owner_id: str | None
    invited: list[str]  # the roles active invitations give the person (none read for its owner)


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
        for part in chunks(sessions):
            for row, user in session.exec(
                    select(LoginSession, User).join(User, col(User.id) == col(LoginSession.user_id))
                    .where(col(LoginSession.id).in_(part))):
                if session_active(row, now):
                    found.sessions[row.id] = user
        for part in chunks(tokens):
            for token_hash, user in session.exec(
                    select(ApiToken.token_hash, User).join(User, col(User.id) == col(ApiToken.user_id))
                    .where(col(ApiToken.token_hash).in_(part), col(ApiToken.revoked_at).is_(None))):
                found.tokens[token_hash] = user
        for part in chunks(links):
            for share in session.exec(select(Share).where(col(Share.token_hash).in_(part))):
                if share.token_hash is not None and active(share.expires_at, share.revoked_at, now):
                    found.links[share.token_hash] = share
        for part in chunks(share_ids):
            for share in session.exec(select(Share).where(col(Share.id).in_(part))):
                found.shares[share.id] = share
    return found


def access_facts_for(conn: Connection,
                     asks: Sequence[tuple[str, str | None]]) -> list[AccessFacts | None]:
    """For each (document id, user id or None): its owner and the roles the user's active
    invitations give on it, None where no such document exists."""
    owners: dict[str, str | None] = {}
    invited: dict[tuple[str, str], list[str]] = {}
    for start in range(0, len(asks), CHUNK):
        part = asks[start:start + CHUNK]
        doc_ids = sorted({doc_id for doc_id, _ in part})
        owner_rows = driver_reads.rows(conn, _owners(slots(len(doc_ids))), bound("d", doc_ids))
        for doc_id, owner_id in owner_rows:
            owners[doc_id] = owner_id
        wanted = {(d, u) for d, u in part if u is not None and d in owners and owners[d] != u}
        if wanted:
            now = utcnow()
            docs = sorted({d for d, _ in wanted})
            users = sorted({u for _, u in wanted})
            statement = _invitations(slots(len(docs)), slots(len(users)))
            for row in conn.execute(statement, {**bound("d", docs), **bound("u", users)}):
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
