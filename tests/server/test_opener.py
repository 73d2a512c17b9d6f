"""The opener (server/opener.py): handshakes in flight share worker-thread visits.

| what happens                                          | what the opener answers                 |
|-------------------------------------------------------|-----------------------------------------|
| 60 people open documents at once                      | each their own role, in a few visits    |
| the owner, with a preload ticket                      | "owner" and exactly the stored state    |
| a stranger, with a ticket, on someone else's document | no role and no state read for them      |
| someone invited as a commenter                        | "commenter"                             |
| an unknown document id                                | no role                                 |
| one person's sign-in cannot be checked (it raises)    | that one fails; the others are answered |
| 30 tabs with one token and 10 with another, at once   | each credential looked up once a visit; |
|                                                       | each tab gets its own person's role     |
| the database fails a whole visit                      | every ask of it fails; the next visit   |
|                                                       | works again                             |
"""

from __future__ import annotations

import asyncio
from secrets import token_hex

import pytest
from sqlalchemy.exc import OperationalError

from server import opener as opener_module
from server.access import PERSONAL_PREFIX, Principal
from server.opener import Opener
from server.security import token_hash
from storage import accounts, documents, shares, updates
from storage.db import make_engine


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


async def test_one_failing_sign_in_fails_only_its_own_ask(engine, monkeypatch):
    ann = _user(engine, "ann")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    real = opener_module.resolve

    def resolve(engine, *, session_id, token):
        if session_id == "broken":
            raise OperationalError("SELECT", {}, Exception("the sessions table is locked"))
        return real(engine, session_id=session_id, token=token)

    monkeypatch.setattr(opener_module, "resolve", resolve)
    opener = Opener(engine)
    try:
        answers = await asyncio.gather(
            opener.open(doc_id, session_id="broken"),
            opener.open(doc_id, known=Principal(user=ann), ticket=1),
            opener.open(doc_id, session_id="no-such-session"),
            return_exceptions=True)
        assert isinstance(answers[0], OperationalError)
        assert answers[1].role == "owner"
        assert answers[2].role is None and answers[2].principal.anonymous
    finally:
        opener.close()


async def test_one_credential_is_looked_up_once_per_visit(engine, monkeypatch):
    ann, bea = _user(engine, "ann"), _user(engine, "bea")
    doc_id = documents.create_document(engine, title="d", owner_id=ann.id).id
    shares.create_share(engine, doc_id=doc_id, role="commenter", created_by=ann.id,
                        user_id=bea.id)
    tokens = {}
    for person in (ann, bea):
        tokens[person.id] = PERSONAL_PREFIX + token_hex(16)
        accounts.add_api_token(engine, user_id=person.id, token_hash=token_hash(tokens[person.id]),
                               name="t")
    real = opener_module.resolve
    looked_up: list[str | None] = []

    def resolve(engine, *, session_id, token):
        looked_up.append(token)
        return real(engine, session_id=session_id, token=token)

    monkeypatch.setattr(opener_module, "resolve", resolve)
    opener = Opener(engine)
    try:
        asks = [opener.open(doc_id, token=tokens[ann.id]) for _ in range(30)]
        asks += [opener.open(doc_id, token=tokens[bea.id]) for _ in range(10)]
        asks.append(opener.open(doc_id, token=PERSONAL_PREFIX + "not-a-token"))
        answers = await asyncio.gather(*asks)
        assert [a.role for a in answers] == ["owner"] * 30 + ["commenter"] * 10 + [None]
        assert {a.principal.user.id for a in answers[:30]} == {ann.id}
        assert {a.principal.user.id for a in answers[30:40]} == {bea.id}
        # at most once per credential and visit (without sharing: 41 look-ups)
        assert len(looked_up) <= 3 * opener.visits
        assert looked_up.count(tokens[ann.id]) <= opener.visits < 30
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


async def test_without_accounts_every_existing_document_is_the_openers(engine):
    doc_id = documents.create_document(engine, title="d").id
    opener = Opener(engine, auth_required=False)
    try:
        assert (await opener.open(doc_id)).role == "owner"
        assert (await opener.open("missing")).role is None
    finally:
        opener.close()
