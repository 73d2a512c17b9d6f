"""What opening documents reads, for many at once (storage/opening.py), on SQLite and PostgreSQL.

| asked                                                 | answered                               |
|-------------------------------------------------------|----------------------------------------|
| a document that does not exist (or was deleted)       | None                                   |
| its owner                                             | owner id, no invitations read          |
| someone invited                                       | the invitation's role                  |
| someone whose invitation expired or was revoked        | no role from it                        |
| someone else's invitation, the same user elsewhere     | not mixed up                           |
| stored states: snapshot + log tail, log only, nothing | exactly what load_updates reads        |
| a compaction commits between the reads                | nothing missed (read again on its own) |
| more asks than one statement takes                    | all answered, in order                 |
"""

from __future__ import annotations

from datetime import timedelta
from secrets import token_hex

from crdt.compaction import merge_to_state
from storage import accounts, documents, shares, updates
from storage.db import make_engine
from storage.in_lists import CHUNK
from storage.models import utcnow
from storage.opening import access_facts_for
from tests.storage.test_updates import compaction_after_snapshot_read, content, edits, rebuilt


def _user(engine, name: str):
    return accounts.create_user(engine, username=f"{name}{token_hex(4)}", display_name=name,
                                password_hash="x")


def test_access_facts_for_many_documents_and_people(db_url):
    engine = make_engine(db_url)
    ann, bea, cy = _user(engine, "ann"), _user(engine, "bea"), _user(engine, "cy")
    mine = documents.create_document(engine, title="ann's", owner_id=ann.id).id
    other = documents.create_document(engine, title="cy's", owner_id=cy.id).id
    shares.create_share(engine, doc_id=mine, role="editor", created_by=ann.id, user_id=bea.id)
    shares.create_share(engine, doc_id=other, role="editor", created_by=cy.id, user_id=bea.id,
                        expires_at=utcnow() - timedelta(minutes=1))
    revoked = shares.create_share(engine, doc_id=other, role="commenter", created_by=cy.id,
                                  user_id=ann.id)
    shares.revoke_share(engine, doc_id=other, share_id=revoked.id)
    shares.create_share(engine, doc_id=other, role="viewer", created_by=cy.id, user_id=cy.id)
    with engine.connect() as conn:
        found = access_facts_for(conn, [(mine, ann.id), (mine, bea.id), (other, bea.id),
                                        (other, ann.id), ("no-such-doc", ann.id), (mine, None),
                                        (mine, cy.id)])
    assert found[0] is not None and found[0].owner_id == ann.id and found[0].invited == []
    assert found[1] is not None and found[1].invited == ["editor"]
    assert found[2] is not None and found[2].owner_id == cy.id and found[2].invited == []  # expired
    assert found[3] is not None and found[3].invited == []  # revoked
    assert found[4] is None
    assert found[5] is not None and found[5].invited == []  # nobody signed in
    assert found[6] is not None and found[6].invited == []  # cy's invitation is on the other
    engine.dispose()


def test_read_many_reads_what_load_updates_reads(db_url):
    engine = make_engine(db_url)
    compacted = documents.create_document(engine, title="snapshot and tail").id
    log_only = documents.create_document(engine, title="log only").id
    empty = documents.create_document(engine, title="nothing yet").id
    _, ups = edits(20)
    updates.append_updates(engine, [(compacted, u) for u in ups[:12]])
    updates.compact(engine, doc_id=compacted, merge=merge_to_state)
    updates.append_updates(engine, [(compacted, u) for u in ups[12:]])
    updates.append_updates(engine, [(log_only, u) for u in ups[:5]])
    with engine.connect() as conn:
        states = {d: loaded.updates for d, loaded in
                  updates.read_many(conn, [compacted, log_only, empty, compacted]).items()}
    for doc_id in (compacted, log_only, empty):
        assert states[doc_id] == updates.load_updates(engine, doc_id=doc_id).updates
    assert content(rebuilt(states[compacted])) == content(rebuilt(ups))
    assert len(states[compacted]) == 1 + len(ups) - 12 and states[empty] == []
    engine.dispose()


def test_a_compaction_between_the_reads_misses_nothing(db_url):
    engine = make_engine(db_url)
    doc_id = documents.create_document(engine, title="overtaken").id
    quiet = documents.create_document(engine, title="left alone").id
    _, ups = edits(30)
    updates.append_updates(engine, [(doc_id, u) for u in ups[:10]])
    updates.compact(engine, doc_id=doc_id, merge=merge_to_state)
    updates.append_updates(engine, [(doc_id, u) for u in ups[10:]] + [(quiet, ups[0])])
    with compaction_after_snapshot_read(engine, doc_id) as overtaken, engine.connect() as conn:
        states = {d: loaded.updates for d, loaded in updates.read_many(conn, [doc_id, quiet]).items()}
    assert overtaken
    assert content(rebuilt(states[doc_id])) == content(rebuilt(ups))
    assert states[quiet] == [ups[0]]
    engine.dispose()


def test_more_asks_than_one_statement_takes(db_url):
    engine = make_engine(db_url)
    owner = _user(engine, "many")
    ids = [documents.create_document(engine, title=f"d{i}", owner_id=owner.id).id
           for i in range(CHUNK + 7)]
    updates.append_updates(engine, [(doc_id, f"u{i}".encode()) for i, doc_id in enumerate(ids)])
    asks = [(doc_id, owner.id) for doc_id in reversed(ids)]
    with engine.connect() as conn:
        found = access_facts_for(conn, asks)
        states = {d: loaded.updates for d, loaded in updates.read_many(conn, ids).items()}
    assert all(f is not None and f.owner_id == owner.id for f in found)
    assert [states[doc_id] for doc_id in ids] == [[f"u{i}".encode()] for i in range(len(ids))]
    engine.dispose()
