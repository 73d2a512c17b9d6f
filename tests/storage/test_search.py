"""The search index on SQLite (FTS5) and PostgreSQL (tsvector): stems, prefixes, accents, case,
phrases, ranking, permissions, and the same answers from both on a shared corpus.

Where the engines differ (said here so nobody is surprised): SQLite's porter stemmer keeps stop
words ("the" finds documents), PostgreSQL's 'english' configuration drops them (a query of only
stop words finds nothing); both stem "utilisation"/"utilization" and "caching"/"caches" alike.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import accounts, documents, search, shares
from storage.db import make_engine
from storage.models import utcnow

CORPUS = {
    "edge": ("Edge caching white paper",
             "We use tiered caching at the edge nodes.\nThe café's utilisation is high.",
             [("t1", "tiered caching", ["Why tiered?", "Because of cost."])]),
    "storage": ("Storage tiers", "Cold storage caches rarely.\nNaïve replication is costly.", []),
    "budget": ("Budget 2027", "Costs grow with utilization.\nNothing about caches here? No.",
               [("t2", "utilization", ["Check the numbers with finance"])]),
}

# query -> the documents it must find, on both engines
EXPECTED = {
    "cach": {"edge", "storage", "budget"},
    "caching": {"edge", "storage", "budget"},
    "CACHING": {"edge", "storage", "budget"},
    '"tiered caching"': {"edge"},
    '"caching tiered"': set(),
    "cafe": {"edge"},
    "café": {"edge"},
    "naive": {"storage"},
    "utilization": {"edge", "budget"},
    "utilisation": {"edge"},  # its stem "utilis" is longer than "util": one way only
    "finance": {"budget"},
    "edge paper": {"edge"},
    "edge budget": set(),
    "2027": {"budget"},
    "zzzz": set(),
}


@pytest.fixture
def corpus(db_url):
    engine = make_engine(db_url)
    ids = {}
    for key, (title, body, threads) in CORPUS.items():
        doc = documents.create_document(engine, title=title)
        ids[key] = doc.id
        entries = [search.Entry("title", title), search.Entry("text", body)]
        entries += [search.Entry("comment", "\n".join([quote, *messages]), thread_id=tid)
                    for tid, quote, messages in threads]
        search.replace_entries(engine, doc_id=doc.id, entries=entries)
    yield engine, ids
    for doc_id in ids.values():
        documents.delete_document(engine, doc_id=doc_id)
    engine.dispose()


def found(engine, ids, raw: str, **scope) -> set[str]:
    query = search.parse_query(raw)
    if query is None:
        return set()
    scope = scope or {"doc_ids": list(ids.values())}
    hits, total = search.search(engine, query, limit=50, **scope)
    assert total == len(hits)
    by_id = {v: k for k, v in ids.items()}
    return {by_id[h.doc_id] for h in hits if h.doc_id in by_id}


@pytest.mark.parametrize("raw", sorted(EXPECTED))
def test_both_engines_answer_the_shared_corpus_alike(corpus, raw):
    engine, ids = corpus
    assert found(engine, ids, raw) == EXPECTED[raw], raw


def test_hits_say_where_and_highlight_the_match(corpus):
    engine, ids = corpus
    hits, _ = search.search(engine, search.parse_query("finance"), doc_ids=list(ids.values()))
    (hit,) = hits
    assert (hit.doc_id, hit.kind, hit.thread_id, hit.title) == (ids["budget"], "comment", "t2",
                                                                "Budget 2027")
    start, end = hit.highlights[0]
    assert hit.snippet[start:end].lower() == "finance"
    hits, _ = search.search(engine, search.parse_query("tiered"), doc_ids=list(ids.values()))
    assert {h.kind for h in hits if h.doc_id == ids["edge"]} == {"text", "comment"}
    for h in hits:
        assert all(h.snippet[s:e].lower().startswith("tier") for s, e in h.highlights)


def test_a_title_match_ranks_first(corpus):
    engine, ids = corpus
    hits, _ = search.search(engine, search.parse_query("storage"), doc_ids=list(ids.values()))
    assert hits[0].kind == "title" and hits[0].doc_id == ids["storage"]
    assert [h.rank for h in hits] == sorted((h.rank for h in hits), reverse=True)


def test_only_readable_documents_are_searched(db_url):
    engine = make_engine(db_url)
    owner = accounts.create_user(engine, username="own-" + db_url[-6:].replace("/", ""),
                                 display_name="O", password_hash="x")
    reader = accounts.create_user(engine, username="rd-" + db_url[-6:].replace("/", ""),
                                  display_name="R", password_hash="x")
    mine = documents.create_document(engine, title="Mine", owner_id=owner.id)
    shared = documents.create_document(engine, title="Shared", owner_id=owner.id)
    expired = documents.create_document(engine, title="Expired", owner_id=owner.id)
    revoked = documents.create_document(engine, title="Revoked", owner_id=owner.id)
    for doc in (mine, shared, expired, revoked):
        search.replace_entries(engine, doc_id=doc.id,
                               entries=[search.Entry("text", "quokka habitat survey")])
    shares.create_share(engine, doc_id=shared.id, role="viewer", created_by=owner.id,
                        user_id=reader.id)
    shares.create_share(engine, doc_id=expired.id, role="viewer", created_by=owner.id,
                        user_id=reader.id, expires_at=utcnow() - timedelta(minutes=1))
    gone = shares.create_share(engine, doc_id=revoked.id, role="viewer", created_by=owner.id,
                               user_id=reader.id)
    shares.revoke_share(engine, doc_id=revoked.id, share_id=gone.id)
    query = search.parse_query("quokka")
    ids = lambda hits: {h.doc_id for h in hits[0]}  # noqa: E731
    assert ids(search.search(engine, query, user_id=owner.id)) >= {
        mine.id, shared.id, expired.id, revoked.id}
    assert ids(search.search(engine, query, user_id=reader.id)) == {shared.id}
    assert ids(search.search(engine, query, doc_ids=[mine.id])) == {mine.id}
    assert search.search(engine, query) == ([], 0)  # nobody: nothing
    documents.delete_document(engine, doc_id=shared.id)
    assert ids(search.search(engine, query, user_id=reader.id)) == set()
    engine.dispose()


@pytest.mark.parametrize("raw", [
    'NEAR(a b) OR c*', '"unbalanced', '" " "', "a AND OR NOT", "col:value", "^start", "x' OR 1=1 --",
    "\x00\x01\x02\x03", "((((((", "*", "-", "a" * 5000, "é" * 300, "🙂 emoji", "\\", "'", "::*",
    " ".join(f"w{i}" for i in range(100)),
])
def test_hostile_queries_are_words_and_nothing_else(corpus, raw):
    engine, ids = corpus
    query = search.parse_query(raw)
    if query is None:
        return
    assert len(query.terms) <= search.MAX_TERMS
    assert sum(len(w) for t in query.terms for w in t) <= search.MAX_QUERY_CHARS
    search.search(engine, query, doc_ids=list(ids.values()))  # never an engine syntax error


def test_parse_query_reads_words_and_phrases():
    assert search.parse_query('Tiered "Edge Nodes" café, tiered') == search.Query(
        (("tiered",), ("edge", "nodes"), ("cafe",)))
    assert search.parse_query("  ,.;  ") is None
    assert search.parse_query("") is None
