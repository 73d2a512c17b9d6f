"""``python -m bench.compaction``: keystrokes while a large document's log is compacted.

A real ``quire serve`` holds two documents: a large one (``--chars``, 100,000 characters by
default, typed as updates of 100 words at random places, as a long session leaves it) and a
small one. A writer and a reader are connected to each; the writer types one character every
20 ms into each document in turn (``--keystrokes``, 700), so the large document's log passes
``QUIRE_COMPACT_EVERY`` (500) and is compacted while the typing goes on. Reported per
document: the time from the writer's change to the reader having it, p50 / p99 / max, and the
keystrokes the three slowest were. The maximum and where it falls are the figures to read: on
the large document every keystroke also costs the two pycrdt clients of this process a few
milliseconds of their own (a change in a 100,000-character text), which the p50 includes.

SQLite by default; ``--pg`` runs on a throw-away PostgreSQL database (bench/postgres.py).
Writes ``bench/results/compaction-latest.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from bench import postgres, report
from tests.support.servers import QuireProcess
from tests.support.yclient import YClient, decode_state_vector

# the load comes from one address and types faster than a person: lift the per-connection
# update rate, as the main bench does (bench/servers.py)
ENV = {"QUIRE_UPDATES_PER_SECOND": "100000", "QUIRE_UPDATE_BURST": "100000",
       "QUIRE_METRICS_TOKEN": "bench-metrics-token"}


def body(doc: Doc) -> XmlText:
    return doc.get("default", type=XmlFragment).children[0].children[0]


async def joined(server: QuireProcess, doc_id: str) -> YClient:
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    return client


async def fill(server: QuireProcess, doc_id: str, chars: int) -> int:
    """Type `chars` characters into the document, 100 words an update at random places."""
    writer = YClient(server.ws(doc_id, saved="1"))  # told when the server has stored it all
    await writer.connect()
    await writer.wait_synced()
    fragment = writer.doc.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("paragraph", None, [XmlText()]))
    text = body(writer.doc)
    words = random.Random(7)
    while len(text) < chars:
        with writer.doc.transaction():
            for _ in range(100):
                text.insert(words.randint(0, len(text)), "word "[: words.randint(1, 5)])
        await asyncio.sleep(0.002)
    me = writer.doc.client_id

    def stored() -> bool:
        saved = writer.persisted_sv
        return saved is not None and (decode_state_vector(saved).get(me, 0)
                                      >= decode_state_vector(writer.doc.get_state())[me])

    await writer.wait_until(stored, timeout=120)
    await writer.close()
    return len(text)


def figures(latencies: list[float]) -> dict[str, Any]:
    ordered = sorted(latencies)
    slowest = sorted(range(len(latencies)), key=lambda k: -latencies[k])[:3]
    return {"p50_ms": round(ordered[len(ordered) // 2], 2),
            "p99_ms": round(ordered[int(len(ordered) * 0.99)], 2),
            "max_ms": round(ordered[-1], 2), "slowest_keystrokes": slowest}


async def compactions(server: QuireProcess) -> int:
    """How many compactions the server has made (its /metrics)."""
    async with server.client(token=ENV["QUIRE_METRICS_TOKEN"]) as client:
        response = await client.get("/metrics")
        response.raise_for_status()
        found = response.text
    return int(next(float(line.split()[-1]) for line in found.splitlines()
                    if line.startswith("quire_compactions_total ")))


async def measure(database_url: str | None, chars: int, keystrokes: int,
                  compact_every: int | None = None) -> dict[str, Any]:
    env = dict(ENV)
    if compact_every is not None:
        env["QUIRE_COMPACT_EVERY"] = str(compact_every)
    with tempfile.TemporaryDirectory(prefix="quire-compaction-") as tmp:
        server = QuireProcess(Path(tmp), auth=False, database_url=database_url, env=env)
        await server.astart()
        try:
            large, small = await server.anew_doc("large"), await server.anew_doc("small")
            size = await fill(server, large, chars)
            pairs = []
            for doc_id in (large, small):
                pairs.append((await joined(server, doc_id), await joined(server, doc_id)))
            writer = pairs[1][0]
            writer.doc.get("default", type=XmlFragment).children.append(
                XmlElement("paragraph", None, [XmlText()]))
            await pairs[1][1].wait_until(lambda: len(pairs[1][1].doc.get(
                "default", type=XmlFragment).children) == 1)
            before_typing = await compactions(server)
            latencies: list[list[float]] = [[], []]
            for _ in range(keystrokes):
                for n, (writer, reader) in enumerate(pairs):
                    before = len(reader.received)
                    text = body(writer.doc)
                    started = time.perf_counter()
                    text.insert(len(text) // 2, "x")
                    while len(reader.received) == before:
                        if time.perf_counter() - started > 10:
                            raise RuntimeError("a keystroke took over 10 s to arrive")
                        await asyncio.sleep(0.0002)
                    latencies[n].append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(0.02)
            while_typing = await compactions(server) - before_typing
            for writer, reader in pairs:
                await writer.close()
                await reader.close()
        finally:
            await asyncio.to_thread(server.stop)
    return {"large_chars": size, "keystrokes": keystrokes, "compactions": while_typing,
            "large": figures(latencies[0]), "small": figures(latencies[1])}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(prog="python -m bench.compaction")
    parser.add_argument("--chars", type=int, default=100_000)
    parser.add_argument("--keystrokes", type=int, default=700)
    parser.add_argument("--compact-every", type=int, default=None,
                        help="QUIRE_COMPACT_EVERY for the server (default: its own, 500)")
    parser.add_argument("--pg", action="store_true", help="on PostgreSQL, not SQLite")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args(argv)
    with ExitStack() as stack:
        url = None
        if args.pg:
            if not postgres.available():
                print("PostgreSQL skipped: not reachable at 127.0.0.1:5432")
                return {}
            url = stack.enter_context(postgres.temporary_database())
        found = asyncio.run(measure(url, args.chars, args.keystrokes, args.compact_every))
    where = "PostgreSQL" if args.pg else "SQLite"
    print(f"{where}: {found['large_chars']:,} characters, {found['keystrokes']} keystrokes into "
          f"each document, {found['compactions']} compactions while typing")
    for name in ("large", "small"):
        f = found[name]
        print(f"{where}, {name} document: p50 {f['p50_ms']} ms, p99 {f['p99_ms']} ms, "
              f"max {f['max_ms']} ms (slowest keystrokes {f['slowest_keystrokes']})")
    report.write_latest(args.out, "compaction-pg" if args.pg else "compaction", found)
    return found


if __name__ == "__main__":
    main()
