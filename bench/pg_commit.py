"""``python -m bench.pg_commit``: a keystroke's commit on PostgreSQL, back to back and as typed.

A keystroke on PostgreSQL is one statement (storage/pg_append.py) sent from the event loop to
a server process that must wake, write, ``fsync`` and answer before anyone sees the keystroke.
On a machine whose cores sleep between a typist's keystrokes (~20 ms apart), every wake-up
costs: this measures the store's own append, and a bare ``SELECT 1`` for comparison, on a
throw-away database, with 2 ms and with 20 ms between samples (interleaved, so drift hits both
alike). Reports p50 / p99 and writes ``bench/results/pg-commit-latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

import psycopg

from bench import postgres, report
from storage import documents
from storage.db import make_engine
from storage.pg_append import PgAppender, conninfo

GAPS_MS = (2, 20)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {"p50_ms": round(ordered[len(ordered) // 2], 3),
            "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
            "samples": len(ordered)}


async def measure(url: str, samples: int) -> dict[str, dict[str, float]]:
    engine = make_engine(url)
    doc_id = documents.create_document(engine, title="typed into").id
    appender = PgAppender(engine)
    probe = await psycopg.AsyncConnection.connect(conninfo(engine), autocommit=True)
    timings: dict[str, list[float]] = {f"{what} {gap} ms apart": [] for what in ("append", "select 1")
                                       for gap in GAPS_MS}
    try:
        await appender.append([(doc_id, b"warm")])
        await probe.execute("SELECT 1")
        kinds = list(timings) * samples
        random.Random(1).shuffle(kinds)
        for kind in kinds:
            gap = int(kind.split()[-3])
            await asyncio.sleep(gap / 1000)
            started = time.perf_counter()
            if kind.startswith("append"):
                await appender.append([(doc_id, b"k")])
            else:
                await probe.execute("SELECT 1")
            timings[kind].append((time.perf_counter() - started) * 1000)
    finally:
        await appender.close()
        await probe.close()
        engine.dispose()
    return {kind: _percentiles(found) for kind, found in timings.items()}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_commit")
    parser.add_argument("--samples", type=int, default=200, help="per kind and gap")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    if not postgres.available():
        print("PostgreSQL skipped: not reachable at 127.0.0.1:5432")
        return {}
    with postgres.temporary_database() as url:
        found = asyncio.run(measure(url, args.samples))
    for kind, figures in found.items():
        print(f"PostgreSQL {kind}: p50 {figures['p50_ms']} ms, p99 {figures['p99_ms']} ms")
    report.write_latest(args.out, "pg-commit", found)
    return found


if __name__ == "__main__":
    main()
