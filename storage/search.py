"""Full-text search over documents: titles, body text and comment threads.

Each document has a few index entries: its title, its text, and one per comment thread (the
quoted passage and the messages). The engines are the database's own, so search needs no extra
service and lives in the shared database (several processes see one index):

- SQLite: an FTS5 table, porter stemmer over unicode61 with diacritics removed, prefix indexes;
  ranked by bm25.
- PostgreSQL: a table with a `tsvector` ('english' configuration: stems, stop words dropped)
  under a GIN index; ranked by `ts_rank_cd`. Accents are folded in Python on both sides, so no
  extension is needed.

What a person types never reaches either query language: `parse_query` reads it into words and
quoted phrases (bounded in length and count), and the engine query is built from those, each
word quoted, every last word of a term matched as a prefix ("cach" finds "caching"). Terms are
ANDed. The two engines stem differently (porter vs snowball, and PostgreSQL drops stop words),
so a few queries match differently; `tests/storage/test_search.py` holds a shared corpus both
must answer alike.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from storage.models import utcnow

log = logging.getLogger("quire.search")

MAX_QUERY_CHARS = 200
MAX_TERMS = 16
MAX_WORD_CHARS = 64
MAX_ENTRY_CHARS = 2_000_000  # a document's text is bounded by QUIRE_MAX_DOCUMENT_BYTES anyway
START, STOP = "\x02", "\x03"  # highlight markers inside snippets (removed from indexed text)
_WORD = re.compile(r"\w+")  # linear: one class, no nesting
TITLE_WEIGHT = 2.0  # a match in the title ranks as two in the text


@dataclass(frozen=True)
class Entry:
    kind: str  # "title", "text" or "comment"
    body: str
    thread_id: str | None = None


@dataclass(frozen=True)
class Query:
    """What to look for: each term a tuple of words (one word, or a quoted phrase)."""

    terms: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Hit:
    doc_id: str
    title: str
    kind: str
    thread_id: str | None
    snippet: str  # plain text
    highlights: tuple[tuple[int, int], ...]  # [start, end) offsets of matches in `snippet`
    rank: float  # higher is better


def fold(value: str) -> str:
    """Lower case without accents ("Café" -> "cafe"), as both engines compare words."""
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _words(chunk: str) -> list[str]:
    """The words of `chunk` as the engines' tokenizers cut them (letters and digits)."""
    words, current = [], []
    for char in chunk:
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return [w[:MAX_WORD_CHARS] for w in words]


def parse_query(raw: str) -> Query | None:
    """Words and "quoted phrases" of what a person typed; None when nothing is searchable.
    One linear pass; anything that is not a letter or digit only separates words."""
    raw = raw[:MAX_QUERY_CHARS]
    terms: list[tuple[str, ...]] = []
    quoted = False
    for n, part in enumerate(raw.split('"')):
        quoted = n % 2 == 1
        words = [fold(w) for w in _words(part)]
        if quoted and words:
            terms.append(tuple(words))
        else:
            terms.extend((w,) for w in words)
    terms = list(dict.fromkeys(terms))[:MAX_TERMS]  # repeated terms add nothing
    return Query(tuple(terms)) if terms else None


def _clean(body: str) -> str:
    return body[:MAX_ENTRY_CHARS].replace(START, " ").replace(STOP, " ")


# ---- schema: made by the migrations (storage/migrations, revision 0001) ------------------


def _sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


# ---- writing -----------------------------------------------------------------------------


def replace_entries(engine: Engine, *, doc_id: str, entries: Sequence[Entry]) -> None:
    """Make `entries` the document's whole index, in one transaction."""
    with engine.begin() as conn:
        remove_in(conn, doc_id=doc_id)
        rows: list[dict[str, Any]] = [
            {"doc_id": doc_id, "kind": e.kind, "thread_id": e.thread_id, "body": _clean(e.body)}
            for e in entries if e.body.strip()]
        if not rows:
            return
        if _sqlite(conn):
            conn.execute(text("INSERT INTO search_index (doc_id, kind, thread_id, body) "
                              "VALUES (:doc_id, :kind, :thread_id, :body)"), rows)
        else:
            for row in rows:
                row["folded"] = fold(row["body"])
            conn.execute(text(
                "INSERT INTO search_entry (doc_id, kind, thread_id, body, tsv) "
                "VALUES (:doc_id, :kind, :thread_id, :body, to_tsvector('english', :folded))"),
                rows)


def remove(engine: Engine, *, doc_id: str) -> None:
    with engine.begin() as conn:
        remove_in(conn, doc_id=doc_id)


def remove_in(conn: Connection, *, doc_id: str) -> None:
    """Remove a document's entries within the caller's transaction."""
    table = "search_index" if _sqlite(conn) else "search_entry"
    conn.execute(text(f"DELETE FROM {table} WHERE doc_id = :doc_id"), {"doc_id": doc_id})


# ---- reading -----------------------------------------------------------------------------


def _fts5(query: Query) -> str:
    # each word quoted (our words are letters and digits only, so nothing can break out);
    # the last word of each term is a prefix
    return " ".join('"' + " ".join(term) + '"*' for term in query.terms)


def _tsquery(query: Query) -> str:
    parts = []
    for term in query.terms:
        words = [f"'{w}'" for w in term]
        words[-1] += ":*"
        parts.append("(" + " <-> ".join(words) + ")" if len(words) > 1 else words[0])
    return " & ".join(parts)


def _visible(user_id: str | None, doc_ids: Sequence[str] | None) -> tuple[str, dict[str, Any]]:
    """A WHERE fragment on `d` (the document table) for what the searcher may read."""
    clauses, params = [], {}
    if user_id is not None:
        clauses.append(
            "(d.owner_id = :user_id OR d.id IN (SELECT s.doc_id FROM share s "
            "WHERE s.user_id = :user_id AND s.revoked_at IS NULL "
            "AND (s.expires_at IS NULL OR s.expires_at > :now)))")
        params["user_id"] = user_id
    if doc_ids is not None:
        names = [f":doc{n}" for n in range(len(doc_ids))]
        clauses.append(f"d.id IN ({', '.join(names) or 'NULL'})")
        params.update({f"doc{n}": d for n, d in enumerate(doc_ids)})
    if not clauses:
        return "1 = 1", params
    return " OR ".join(clauses), params


def search(engine: Engine, query: Query, *, user_id: str | None = None,
           doc_ids: Sequence[str] | None = None, everything: bool = False,
           limit: int = 20, offset: int = 0) -> tuple[list[Hit], int]:
    """Hits for `query` among the documents `user_id` owns or was invited to, and `doc_ids`
    (a share link's document); all documents only with `everything` (accounts switched off).
    Best first. Returns (page, total)."""
    if user_id is None and doc_ids is None and not everything:
        return [], 0
    where, params = _visible(user_id, doc_ids)
    now = utcnow().replace(tzinfo=None)  # stored as SQLAlchemy stores DateTime: naive UTC
    params.update({"limit": limit, "offset": offset, "weight": TITLE_WEIGHT,
                   "now": now.strftime("%Y-%m-%d %H:%M:%S.%f") if _sqlite(engine) else now})
    if _sqlite(engine):
        params["q"] = _fts5(query)
        # bm25 is lower for better matches: negated, a title counts double
        base = (
            "FROM search_index JOIN document d ON d.id = search_index.doc_id "
            f"WHERE search_index MATCH :q AND ({where})")
        select = (
            "SELECT search_index.doc_id, d.title, search_index.kind, search_index.thread_id, "
            f"snippet(search_index, 3, '{START}', '{STOP}', '…', 24), "
            "-bm25(search_index) * CASE search_index.kind WHEN 'title' THEN :weight ELSE 1 END "
            "AS score ")
    else:
        params["q"] = _tsquery(query)
        # the matches first, from the GIN index, then who may read them (left to itself the
        # planner walks every entry in document order, filtering each big tsvector)
        base = (
            "FROM (SELECT id FROM search_entry WHERE tsv @@ to_tsquery('english', :q) "
            "OFFSET 0) m JOIN search_entry e ON e.id = m.id JOIN document d ON d.id = e.doc_id "
            f"WHERE ({where})")
        select = (
            "SELECT e.doc_id, d.title, e.kind, e.thread_id, e.id, "
            "ts_rank_cd(e.tsv, to_tsquery('english', :q)) "
            "* CASE e.kind WHEN 'title' THEN :weight ELSE 1 END "
            "AS score ")
    with engine.begin() as conn:
        if not _sqlite(engine):
            # PostgreSQL's planner does not count the cost of reading big tsvectors: left to
            # itself it scans every entry (15 ms on 1,000 documents) where the GIN index
            # answers in under 1 ms
            conn.execute(text("SET LOCAL enable_seqscan = off"))
        total = conn.execute(text("SELECT count(*) " + base), params).scalar_one()
        rows = conn.execute(text(
            select + base + " ORDER BY score DESC, 1 LIMIT :limit OFFSET :offset"), params).all()
        if not _sqlite(engine) and rows:
            # ts_headline parses the whole entry (1.4 ms for 2,000 words, per hit), and reading
            # every matching body before ranking costs more: the page's bodies are read after,
            # and the snippet cut here, around the words the query's stems begin
            stems = re.findall(r"'([^']+)'", conn.execute(
                text("SELECT to_tsquery('english', :q)::text"), {"q": params["q"]}).scalar_one())
            ids = [row[4] for row in rows]
            bodies: dict[int, str] = {
                row[0]: row[1] for row in conn.execute(
                    text("SELECT id, body FROM search_entry WHERE id = ANY(:ids)"), {"ids": ids})}
            hits = [(*row[:4], _snippet(bodies.get(row[4], ""), stems), row[5]) for row in rows]
            return [_hit(*row) for row in hits], int(total)
    return [_hit(*row) for row in rows], int(total)


SNIPPET_WORDS = 24


def _snippet(body: str, stems: Sequence[str]) -> str:
    """`body` cut to about SNIPPET_WORDS words around the first word that begins with one of
    `stems` (accents and case folded), every such word marked START…STOP. Stops reading once
    the window is full."""
    prefixes = tuple(stems)

    def matches(word: str) -> bool:
        return (word.lower() if word.isascii() else fold(word)).startswith(prefixes)

    before: list[tuple[int, int]] = []  # the last words before the first match
    window: list[tuple[int, int, bool]] = []
    for m in _WORD.finditer(body):
        a, b = m.span()
        hit = bool(prefixes) and matches(body[a:b])
        if window or hit:
            window.append((a, b, hit))
            if len(window) >= SNIPPET_WORDS - len(before):
                break
        else:
            before.append((a, b))
            if len(before) > SNIPPET_WORDS // 3:
                before.pop(0)
    if not window:  # no word begins with a stem (a phrase split oddly): the start
        return body[:200]
    words = [(a, b, False) for a, b in before] + window
    start, end = words[0][0], words[-1][1]
    parts, at = [], start
    for a, b, hit in words:
        if hit:
            parts += [body[at:a], START, body[a:b], STOP]
            at = b
    parts.append(body[at:end])
    return ("…" if start > 0 else "") + "".join(parts) + ("…" if end < len(body) else "")


def _hit(doc_id: str, title: str, kind: str, thread_id: str | None, marked: str,
         score: float) -> Hit:
    plain: list[str] = []
    highlights: list[tuple[int, int]] = []
    offset, start = 0, None
    for char in marked:
        if char == START:
            start = offset
        elif char == STOP:
            if start is not None and offset > start:
                highlights.append((start, offset))
            start = None
        else:
            plain.append(char)
            offset += 1
    return Hit(doc_id=doc_id, title=title, kind=kind, thread_id=thread_id,
               snippet="".join(plain), highlights=tuple(highlights), rank=float(score))
