"""``python -m bench.access``: access checks at scale, on SQLite and PostgreSQL, in process.

Makes ``--people`` accounts (1,000 by default), each owning one document and signed in with a
session cookie, then measures the two moments the server asks the database about many people
at once:

- **a reconnect storm**: every one of them opens their document, ``--window`` (50) handshakes in
  flight at a time, through the server's opener (server/opener.py: who each cookie stands for,
  their role, the stored state), as after a restart when nobody is in the access cache yet;
- **the re-check**: every one of those connections judged against the database, as the server
  does every ``QUIRE_ACCESS_RECHECK_SECONDS`` (server/liveaccess.py).

Reports wall time and this process's CPU for each, and writes ``bench/results/access-latest.json``.
PostgreSQL runs when reachable at 127.0.0.1:5432, in a scratch database dropped afterwards
(bench/postgres.py).
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import time
from datetime import timedelta
from pathlib import Path

from bench import postgres, report
from server.access import resolve
from server.liveaccess import judge_all
from server.opener import Opener
from server.security import token_hash
from storage import accounts, documents, sessions
from storage.db import make_engine
from storage.models import utcnow


def fill(engine, people: int) -> list[tuple[str, str]]:
    """`people` accounts with a document and a live session each: (doc id, session id)."""
    found = []
    for n in range(people):
        user = accounts.create_user(engine, username=f"p{n}-{secrets.token_hex(3)}",
                                    display_name=f"Person {n}", password_hash="x")
        doc_id = documents.create_document(engine, title=f"Notes {n}", owner_id=user.id).id
        session_id = secrets.token_hex(16)
        sessions.create_session(engine, session_hash=token_hash(session_id), user_id=user.id,
                                expires_at=utcnow() + timedelta(days=1))
        found.append((doc_id, session_id))
    return found


def timed(work) -> tuple[object, dict]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    return result, {"wall_ms": round((time.perf_counter() - wall) * 1000, 1),
                    "cpu_ms": round((time.process_time() - cpu) * 1000, 1)}


def storm(engine, people: list[tuple[str, str]], window: int) -> list:
    async def run() -> list:
        opener = Opener(engine)
        answers = []
        try:
            for start in range(0, len(people), window):
                answers += await asyncio.gather(*(
                    opener.open(doc_id, session_id=session_id, ticket=1)
                    for doc_id, session_id in people[start:start + window]))
        finally:
            opener.close()
        return answers

    return asyncio.run(run())


def run_one(label: str, url: str, args) -> dict:
    engine = make_engine(url)
    try:
        people = fill(engine, args.people)
        answers, opening = timed(lambda: storm(engine, people, args.window))
        assert all(a.role == "owner" and a.preloaded is not None for a in answers)  # type: ignore[attr-defined]
        asks = {(n,): (doc_id, resolve(engine, session_id=session_id, token=None), "owner")
                for n, (doc_id, session_id) in enumerate(people)}
        verdicts, recheck = timed(lambda: judge_all(engine, asks))
        assert all(v.code is None for v in verdicts.values())  # type: ignore[attr-defined]
        return {"engine": label, "people": args.people, "window": args.window,
                "reconnect_storm": opening, "recheck": recheck}
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.access")
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--window", type=int, default=50)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)

    runs = postgres.on_each_database(lambda label, url: run_one(label, url, args),
                                     postgresql=not args.no_pg)
    for run in runs:
        storm_, recheck = run["reconnect_storm"], run["recheck"]
        print(f"{run['engine']}: {run['people']} people, each opening their own document "
              f"({run['window']} at a time): {storm_['wall_ms']} ms wall, {storm_['cpu_ms']} ms "
              f"CPU; re-checking their {run['people']} connections: {recheck['wall_ms']} ms wall, "
              f"{recheck['cpu_ms']} ms CPU")
    report.write_latest(args.out, "access", runs)
    return runs


if __name__ == "__main__":
    main()
