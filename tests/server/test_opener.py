"""The opener (server/opener.py): handshakes in flight share worker-thread visits.

| what happens                                          | what the opener answers                 |
|-------------------------------------------------------|-----------------------------------------|
| 60 people open documents at once                      | each their own role, in a few visits    |
| the owner, with a preload ticket                      | "owner" and exactly the stored state    |
| a stranger, with a ticket, on someone else's document | no role and no state read for them      |
| someone invited as a commenter                        | "commenter"                             |
| an unknown document id                                | no role                                 |
| a crowd of cookies and tokens: live, expired, revoked,| each socket its own person and role;    |
| unknown, a token and a cookie together, link tokens   | one read per kind of credential a visit |
| the database fails a whole visit                      | every ask of it fails; the next visit   |
|                                                       | works again                             |
| PostgreSQL drops the opener's connection (a restart)  | the visit reads again on a fresh one:   |
|                                                       | the handshake never sees it             |
| a visit on SQLite / on PostgreSQL                     | read on the loop / on the opener thread |
| a crowd: asks one a turn of the loop, just after a    | gathered into one visit (at once when a |
| visit                                                 | full batch waits)                       |
| someone alone                                         | read at once, never kept waiting        |
| the opener closes while a visit gathers               | its asks fail at once                   |
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from secrets import token_hex

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from server import opener as opener_module
from server.access import Principal
from server.opener import Opener
from server.security import LINK_PREFIX, PERSONAL_PREFIX, token_hash
from storage import accounts, documents, sessions, shares, updates
from storage.db import make_engine
from storage.models import utcnow


def _user(engine, name: str):
    return accounts.create_user(engine, username=f"{name}{token_hex(4)}", display_name=name,
                                password_hash="x")


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


async def test_many_opens_at_once_are_answered_in_a_few_visits(engine):
    ann, bea, cy = _user(engine, "ann"), _user(engine, "bea"), _user(engine, "cy")
    docs = [documents.create_document(engine, title=f"d{i}", owner_id=ann.id).id
            for i in range(20)]
    updates.append_updates(engine, [(doc_id, f"state of {doc_id}".encode()) for doc_id in docs])
    shares.create_share(engine, doc_id=docs[0], role="commenter", created_by=ann.id,
                        user_id=cy.id)
    opener = Opener(engine)
    try:
        asks = []
        for doc_id in docs:
            asks.append(opener.open(doc_id, known=Principal(user=ann), ticket=7))
            asks.append(opener.open(doc_id, known=Principal(user=bea), ticket=7))
        asks.append(opener.open(docs[0], known=Principal(user=cy), ticket=None))
        asks.append(opener.open("no-such-document", known=Principal(user=ann), ticket=7))
        answers = await asyncio.gather(*asks)
        assert opener.asks == len(asks) and opener.visits < len(asks) / 4
        for n, doc_id in enumerate(docs):
            mine, strangers = answers[2 * n], answers[2 * n + 1]
            assert mine.role == "owner" and mine.preloaded is not None
            assert mine.preloaded.ticket == 7
            assert mine.preloaded.updates == [f"state of {doc_id}".encode()]
            assert strangers.role is None and strangers.preloaded is None
        assert answers[-2].role == "commenter" and answers[-2].preloaded is None
        assert answers[-1].role is None and answers[-1].preloaded is None
    finally:
        opener.close()


async def test_everyone_in_a_crowd_is_who_their_own_cookie_or_token_says(engine, monkeypatch):
    ann, bea, cy = _user(engine, "ann"), _user(engine, "bea"), _user(engine, "cy")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    shares.create_share(engine, doc_id=doc_id, role="editor", created_by=ann.id, user_id=bea.id)
    later, earlier = utcnow() + timedelta(days=1), utcnow() - timedelta(minutes=1)

    def cookie(person, *, expires_at=later, revoked=False) -> str:
        session_id = token_hex(16)
        sessions.create_session(engine, session_hash=token_hash(session_id), user_id=person.id,
                                expires_at=expires_at)
        if revoked:
            sessions.revoke_session(engine, session_hash=token_hash(session_id))
        return session_id

    def personal(person, *, revoked=False) -> str:
        token = PERSONAL_PREFIX + token_hex(16)
        row = accounts.add_api_token(engine, user_id=person.id, token_hash=token_hash(token),
                                     name="t")
        if revoked:
            accounts.revoke_api_token(engine, user_id=person.id, token_id=row.id)
        return token

    def link(role, *, expires_at=None, revoked=False) -> str:
        token = LINK_PREFIX + token_hex(16)
        share = shares.create_share(engine, doc_id=doc_id, role=role, created_by=ann.id,
                                    token_hash=token_hash(token), expires_at=expires_at)
        if revoked:
            shares.revoke_share(engine, doc_id=doc_id, share_id=share.id)
        return token

    crowd = [  # (session id, token) -> (account, role)
        ((cookie(ann), None), (ann, "owner")),
        ((cookie(bea), None), (bea, "editor")),
        ((cookie(cy), None), (cy, None)),
        ((cookie(bea, expires_at=earlier), None), (None, None)),
        ((cookie(bea, revoked=True), None), (None, None)),
        (("no-such-session", None), (None, None)),
        ((None, personal(bea)), (bea, "editor")),
        ((None, personal(ann, revoked=True)), (None, None)),
        ((cookie(cy), personal(ann)), (ann, "owner")),  # the token speaks first
        ((cookie(cy), personal(ann, revoked=True)), (cy, None)),  # then the cookie
        ((None, link("commenter")), (None, "commenter")),
        ((None, link("viewer", expires_at=earlier)), (None, None)),
        ((None, link("editor", revoked=True)), (None, None)),
        ((cookie(cy), link("viewer")), (cy, "viewer")),
        ((cookie(bea), link("viewer")), (bea, "editor")),  # the best of both
        ((None, PERSONAL_PREFIX + "not-a-token"), (None, None)),
        ((None, "neither-kind"), (None, None)),
    ]
    real = opener_module.sign_ins_for
    reads: list[dict] = []

    def sign_ins_for(conn, **asked):
        reads.append(asked)
        return real(conn, **asked)

    monkeypatch.setattr(opener_module, "sign_ins_for", sign_ins_for)
    opener = Opener(engine)
    try:
        # everyone twice, and 30 more tabs of the first: all at once
        asks = [(sid, token) for (sid, token), _ in crowd] * 2 + [crowd[0][0]] * 30
        answers = await asyncio.gather(*(opener.open(doc_id, session_id=sid, token=token)
                                         for sid, token in asks))
        expected = [want for _, want in crowd] * 2 + [crowd[0][1]] * 30
        for answer, (account, role) in zip(answers, expected, strict=True):
            user = answer.principal.user
            assert (user.id if user else None, answer.role) == (
                account.id if account else None, role)
        # one read of the credentials per visit, each credential once: not one per socket
        assert len(reads) == opener.visits < len(asks) / 4
        for asked in reads:
            assert all(len(hashes) == len(set(hashes)) for hashes in asked.values())
    finally:
        opener.close()


async def test_a_visit_the_database_fails_fails_its_asks_and_the_next_works(engine, monkeypatch):
    ann = _user(engine, "ann")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    real = opener_module.access_facts_for
    down = [True]

    def access_facts_for(conn, asks):
        if down[0]:
            raise OperationalError("SELECT", {}, Exception("database is unavailable"))
        return real(conn, asks)

    monkeypatch.setattr(opener_module, "access_facts_for", access_facts_for)
    opener = Opener(engine)
    try:
        failed = await asyncio.gather(*(opener.open(doc_id, known=Principal(user=ann))
                                        for _ in range(5)), return_exceptions=True)
        assert all(isinstance(f, OperationalError) for f in failed)
        down[0] = False
        again = await opener.open(doc_id, known=Principal(user=ann))
        assert again.role == "owner"
    finally:
        opener.close()


async def test_a_connection_the_database_dropped_is_replaced_within_the_visit(pg_database):
    """The opener keeps its connection between visits (no check-out ping): when PostgreSQL
    ends it (a restart, an idle timeout), the next visit must not fail the handshakes."""
    engine = make_engine(pg_database)
    ann = _user(engine, "ann")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    updates.append_updates(engine, [(doc_id, b"the stored state")])
    opener = Opener(engine)
    try:
        first = await opener.open(doc_id, known=Principal(user=ann), ticket=1)
        assert first.preloaded is not None and first.preloaded.updates == [b"the stored state"]
        with engine.connect() as conn:  # every other idle connection to this database
            ended = conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state = 'idle'")).all()
        assert ended, "the opener's connection was there to end"
        again = await opener.open(doc_id, known=Principal(user=ann), ticket=2)
        assert again.role == "owner" and again.preloaded is not None
        assert again.preloaded.updates == [b"the stored state"] and opener.visits == 2
    finally:
        opener.close()
        engine.dispose()


async def test_without_accounts_every_existing_document_is_the_openers(engine):
    doc_id = documents.create_document(engine, title="d").id
    opener = Opener(engine, auth_required=False)
    try:
        assert (await opener.open(doc_id)).role == "owner"
        assert (await opener.open("missing")).role is None
    finally:
        opener.close()


async def test_on_sqlite_a_visit_reads_on_the_loop_and_on_postgresql_on_its_thread(engine,
                                                                                    monkeypatch):
    """SQLite answers from the page cache in microseconds: handing a visit to a thread and back
    cost the loop more than the reads. PostgreSQL's round trips stay off the loop."""
    import threading

    ann = _user(engine, "ann")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    real = opener_module.access_facts_for
    threads: list[int] = []

    def access_facts_for(conn, asks):
        threads.append(threading.get_ident())
        return real(conn, asks)

    monkeypatch.setattr(opener_module, "access_facts_for", access_facts_for)
    opener = Opener(engine)
    try:
        opened = await asyncio.gather(*(opener.open(doc_id, known=Principal(user=ann))
                                        for _ in range(3)))
        assert [o.role for o in opened] == ["owner"] * 3 and len(threads) == 1
        on_loop = threads[0] == threading.get_ident()
        assert on_loop is (engine.dialect.name == "sqlite")
    finally:
        opener.close()


async def test_a_crowd_of_handshakes_is_gathered_and_someone_alone_never_waits(engine,
                                                                               monkeypatch):
    """Handshakes come one per turn of the loop: a visit soon after another waits a little for
    more (GATHER_SECONDS), or until a full visit's worth is waiting; an ask with no visit
    shortly before it is read at once."""
    monkeypatch.setattr(opener_module, "GATHER_SECONDS", 30.0)  # a wait would time the test out
    monkeypatch.setattr(opener_module, "CROWD_SECONDS", 60.0)
    ann = _user(engine, "ann")
    docs = [documents.create_document(engine, title=f"d{i}", owner_id=ann.id).id
            for i in range(9)]
    opener = Opener(engine, max_batch=4)
    try:
        # alone: read in the next turn of the loop
        first = await asyncio.wait_for(opener.open(docs[0], known=Principal(user=ann)), 5)
        assert first.role == "owner" and opener.visits == 1
        # a crowd right after: one a turn, gathered until four wait, then read together
        asks = []
        for doc_id in docs[1:5]:
            asks.append(asyncio.ensure_future(opener.open(doc_id, known=Principal(user=ann))))
            await asyncio.sleep(0)
        answers = await asyncio.wait_for(asyncio.gather(*asks), 5)
        assert [a.role for a in answers] == ["owner"] * 4 and opener.visits == 2
        # fewer than a visit's worth wait for the gathering to end
        monkeypatch.setattr(opener_module, "GATHER_SECONDS", 0.2)
        asks = []
        for doc_id in docs[5:8]:
            asks.append(asyncio.ensure_future(opener.open(doc_id, known=Principal(user=ann))))
            await asyncio.sleep(0)
        await asyncio.sleep(0.05)
        assert not any(ask.done() for ask in asks) and opener.visits == 2
        answers = await asyncio.wait_for(asyncio.gather(*asks), 5)
        assert [a.role for a in answers] == ["owner"] * 3 and opener.visits == 3
        # after a quiet moment, someone alone again reads at once
        monkeypatch.setattr(opener_module, "GATHER_SECONDS", 30.0)
        monkeypatch.setattr(opener_module, "CROWD_SECONDS", 0.05)
        await asyncio.sleep(0.1)
        last = await asyncio.wait_for(opener.open(docs[8], known=Principal(user=ann)), 5)
        assert last.role == "owner" and opener.visits == 4
    finally:
        opener.close()


async def test_closing_while_a_crowd_gathers_fails_its_asks_at_once(engine, monkeypatch):
    monkeypatch.setattr(opener_module, "GATHER_SECONDS", 30.0)
    monkeypatch.setattr(opener_module, "CROWD_SECONDS", 60.0)
    ann = _user(engine, "ann")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    opener = Opener(engine)
    try:
        await opener.open(doc_id, known=Principal(user=ann))
        waiting = asyncio.ensure_future(opener.open(doc_id, known=Principal(user=ann)))
        await asyncio.sleep(0.05)
        assert not waiting.done()
    finally:
        opener.close()
    with pytest.raises(RuntimeError, match="stopping|shutdown"):
        await asyncio.wait_for(waiting, 5)
