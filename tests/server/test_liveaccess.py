"""Re-checking open connections (server/liveaccess.py `judge_all`): every kind of change to a
person's access, for many connections in one call, in a few statements whatever their number.

| what changed since the connection opened            | verdict                              |
|-----------------------------------------------------|--------------------------------------|
| nothing (owner by cookie, editor by token, link)    | keep                                 |
| the session was revoked / expired                   | 4401 "you were signed out"           |
| the API token was revoked                           | 4401                                 |
| the invitation was revoked                          | 4403 access removed                  |
| the link was revoked                                | 4403 access removed                  |
| the link expired                                    | 4403 "Your link ... expired"         |
| the invitation's role changed                       | 3001 reconnect to read the new role  |
| the document was deleted                            | 4410                                 |
"""

from __future__ import annotations

from datetime import timedelta
from secrets import token_hex

import pytest

from crdt.protocol import CloseCode
from server import liveaccess
from server.access import resolve
from server.security import LINK_PREFIX, PERSONAL_PREFIX, token_hash
from storage import accounts, documents, sessions, shares
from storage.db import make_engine
from storage.models import Share, utcnow


@pytest.fixture
def engine(db_url):
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def test_every_change_of_access_for_many_connections_in_a_few_statements(engine, monkeypatch):
    def person(name):
        return accounts.create_user(engine, username=f"{name}{token_hex(4)}", display_name=name,
                                    password_hash="x")

    ann, bea, cy = person("ann"), person("bea"), person("cy")
    later = utcnow() + timedelta(days=1)

    def cookie(user) -> str:
        session_id = token_hex(16)
        sessions.create_session(engine, session_hash=token_hash(session_id), user_id=user.id,
                                expires_at=later)
        return session_id

    def personal(user) -> tuple[str, str]:
        token = PERSONAL_PREFIX + token_hex(16)
        row = accounts.add_api_token(engine, user_id=user.id, token_hash=token_hash(token),
                                     name="t")
        return token, row.id

    def link(doc_id, role) -> tuple[str, Share]:
        token = LINK_PREFIX + token_hex(16)
        return token, shares.create_share(engine, doc_id=doc_id, role=role, created_by=ann.id,
                                          token_hash=token_hash(token))

    docs = [documents.create_document(engine, title=f"d{i}", owner_id=ann.id).id
            for i in range(60)]
    connections = []  # (doc, principal, role, expected close code or None)
    changes = []  # what happens to them once they are open
    for n, doc_id in enumerate(docs):
        invitation = shares.create_share(engine, doc_id=doc_id, role="editor",
                                         created_by=ann.id, user_id=bea.id)
        owner = resolve(engine, session_id=cookie(ann), token=None)
        token, token_id = personal(bea)
        editor = resolve(engine, session_id=None, token=token)
        link_token, link_share = link(doc_id, "commenter")
        holder = resolve(engine, session_id=cookie(cy), token=link_token)
        assert (owner.user.id, editor.user.id, holder.link.id) == (ann.id, bea.id, link_share.id)
        case = n % 6
        if case == 0:
            expected = (None, None, None)
        elif case == 1:
            changes.append(lambda s=owner.session: sessions.revoke_session(engine,
                                                                           session_hash=s))
            changes.append(lambda t=token_id: accounts.revoke_api_token(engine, user_id=bea.id,
                                                                        token_id=t))
            expected = (CloseCode.UNAUTHORIZED, CloseCode.UNAUTHORIZED, None)
        elif case == 2:
            changes.append(lambda d=doc_id, i=invitation.id: shares.revoke_share(
                engine, doc_id=d, share_id=i))
            changes.append(lambda d=doc_id, i=link_share.id: shares.revoke_share(
                engine, doc_id=d, share_id=i))
            expected = (None, CloseCode.FORBIDDEN, CloseCode.FORBIDDEN)
        elif case == 3:
            changes.append(lambda i=link_share.id: _set(engine, i, expires_at=utcnow()
                                                        - timedelta(minutes=1)))
            changes.append(lambda i=invitation.id: _set(engine, i, role="viewer"))
            expected = (None, CloseCode.ROLE_CHANGED, CloseCode.FORBIDDEN)
        elif case == 4:
            changes.append(lambda d=doc_id: documents.delete_document(engine, doc_id=d))
            expected = (CloseCode.GONE,) * 3
        else:  # the session expired
            changes.append(lambda s=owner.session: _expire_session(engine, s))
            expected = (CloseCode.UNAUTHORIZED, None, None)
        for principal, role, code in zip((owner, editor, holder), ("owner", "editor", "commenter"),
                                         expected, strict=True):
            connections.append((doc_id, principal, role, code))
    for change in changes:
        change()

    real = liveaccess.sign_ins_for
    reads = []
    monkeypatch.setattr(liveaccess, "sign_ins_for",
                        lambda conn, **asked: reads.append(asked) or real(conn, **asked))
    monkeypatch.setattr(liveaccess, "CHUNK", 64)
    asks = {(n,): (doc_id, principal, role)
            for n, (doc_id, principal, role, _) in enumerate(connections)}
    verdicts = liveaccess.judge_all(engine, asks)
    got = [verdicts[(n,)].code for n in range(len(connections))]
    assert got == [code for *_, code in connections]
    reasons = {verdicts[(n,)].reason for n, c in enumerate(connections) if c[3] == 4403}
    assert any("expired" in r for r in reasons) and any("removed" in r for r in reasons)
    assert len(reads) == -(-len(connections) // 64)  # one read of credentials per 64 sockets


def _set(engine, share_id, **values):
    from sqlmodel import Session
    with Session(engine) as session:
        share = session.get(Share, share_id)
        for key, value in values.items():
            setattr(share, key, value)
        session.add(share)
        session.commit()


def _expire_session(engine, session_hash):
    from sqlmodel import Session

    from storage.models import LoginSession
    with Session(engine) as session:
        row = session.get(LoginSession, session_hash)
        row.expires_at = utcnow() - timedelta(seconds=1)
        session.add(row)
        session.commit()
