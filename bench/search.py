"""``python -m bench.search``: search latency over many documents, on SQLite and PostgreSQL.

Builds ``--docs`` documents (1,000 by default) of ``--words`` words each (2,000), with a title and
two comment threads each, owned by one account and shared with another, through the real index
(storage/search.py); then times ``--queries`` searches (200) of each shape as the invited account
(so the permission filter runs), and reports p50/p95 per shape and the index size per document.
Writes ``bench/results/search-latest.json``. PostgreSQL runs when reachable at 127.0.0.1:5432,
in a scratch database dropped afterwards (bench/postgres.py).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import time
from pathlib import Path

from sqlalchemy import text

from bench import postgres, report
from storage import accounts, documents, search, shares
from storage.db import make_engine

COMMON = ("the of and to in is that for on with as by at from this be are it an or was which "
          "edge cache caching tiered origin shield latency throughput network storage node "
          "replica cluster budget cost traffic customer region request response policy").split()
SHAPES = {
    "one common word": lambda r, rare: "caching",
    "prefix": lambda r, rare: "cach",
    "two words": lambda r, rare: "tiered latency",
    "phrase": lambda r, rare: '"origin shield"',
    "rare word": lambda r, rare: r.choice(rare),
    "no match": lambda r, rare: "zzqqxx",
}


def vocabulary(r: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(r.choice(letters) for _ in range(r.randint(4, 10))) for _ in range(size)]


def fill(engine, docs: int, words: int, seed: int = 7) -> tuple[str, list[str]]:
    r = random.Random(seed)
    rare = vocabulary(r)
    owner = accounts.create_user(engine, username=f"own{secrets.token_hex(3)}",
                                 display_name="Owner", password_hash="x")
    reader = accounts.create_user(engine, username=f"rd{secrets.token_hex(3)}",
                                  display_name="Reader", password_hash="x")
    for n in range(docs):
        doc = documents.create_document(engine, title=f"White paper {n} on {r.choice(COMMON)}",
                                        owner_id=owner.id)
        shares.create_share(engine, doc_id=doc.id, role="viewer", created_by=owner.id,
                            user_id=reader.id)
        body = " ".join(r.choice(COMMON) if r.random() < 0.3 else r.choice(rare)
                        for _ in range(words))
        entries = [search.Entry("title", doc.title), search.Entry("text", body)]
        entries += [search.Entry("comment", " ".join(r.choice(rare) for _ in range(30)),
                                 thread_id=f"t{n}-{k}") for k in range(2)]
        search.replace_entries(engine, doc_id=doc.id, entries=entries)
    return reader.id, rare


def size_bytes(engine) -> int:
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            return int(conn.execute(text(
                "SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search_index%'")).scalar_one())
        return int(conn.execute(text(
            "SELECT pg_total_relation_size('search_entry')")).scalar_one())


def measure(engine, user_id: str, rare: list[str], queries: int) -> dict:
    r = random.Random(11)
    results = {}
    for shape, make in SHAPES.items():
        times, totals = [], []
        for _ in range(queries):
            query = search.parse_query(make(r, rare))
            started = time.perf_counter()
            hits, total = search.search(engine, query, user_id=user_id, limit=20)
            times.append((time.perf_counter() - started) * 1000)
            totals.append(total)
        times.sort()
        results[shape] = {"p50_ms": round(statistics.median(times), 2),
                          "p95_ms": round(times[int(len(times) * 0.95) - 1], 2),
                          "matches_median": int(statistics.median(totals))}
    return results


def run_one(label: str, url: str, args) -> dict:
    engine = make_engine(url)
    started = time.perf_counter()
    user_id, rare = fill(engine, args.docs, args.words)
    built = time.perf_counter() - started
    out = {"engine": label, "docs": args.docs, "words": args.words,
           "index_seconds": round(built, 1),
           "index_kib_per_doc": round(size_bytes(engine) / 1024 / args.docs, 1),
           "queries": measure(engine, user_id, rare, args.queries)}
    engine.dispose()
    return out


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.search")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    runs = postgres.on_each_database(lambda label, url: run_one(label, url, args),
                                     postgresql=not args.no_pg)
    for run in runs:
        print(f"{run['engine']}: {run['docs']} documents x {run['words']} words, indexed in "
              f"{run['index_seconds']} s, {run['index_kib_per_doc']} KiB of index per document")
        for shape, q in run["queries"].items():
            print(f"  {shape:<16} p50 {q['p50_ms']:7.2f} ms   p95 {q['p95_ms']:7.2f} ms   "
                  f"({q['matches_median']} matches)")
    report.write_latest(args.out, "search", runs)
    return runs


if __name__ == "__main__":
    main()
