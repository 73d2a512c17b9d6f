"""``python -m bench.collector``: how long Quire's cycle collections take while documents open.

Quire (SQLite) runs under ``bench/gc_timed.py``; its documents are made and the server left to
settle, then the same Node client as ``manydocs`` (``bench/js/open_held.mjs``) opens
``--docs`` documents, one client each, 50 handshakes in flight, and the collections the server
made meanwhile are reported: how many of each generation, and the seconds they took. Rounds
spread by about a fifth on this VM; compare medians. The thresholds are the ones
``quire serve`` sets (server/cli.py): to compare others, change them there.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.holding import open_held
from bench.servers import launch


def one_round(docs: int, workdir: Path) -> dict:
    out = workdir / "gc.json"
    os.environ["GC_TIMED_OUT"] = str(out)  # the server's environment is ours plus its own
    with launch("quire-sqlite", workdir, "collector", wrap=[sys.executable, "-m", "bench.gc_timed"]) as server:
        rooms = server.rooms(docs)
        server.settle(timeout=120)
        os.kill(server.pid, signal.SIGUSR1)
        cpu_before = server.cpu_seconds()

        def read_counts() -> float:
            cpu = server.cpu_seconds() - cpu_before
            os.kill(server.pid, signal.SIGUSR2)
            deadline = time.monotonic() + 10
            while not out.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            return cpu

        opened, cpu = open_held(server, rooms, read_counts)
    counted = json.loads(out.read_text())
    out.unlink()
    return {"open_ms": opened["ms"], "server_cpu_ms": cpu * 1000,
            "collections": counted["collections"],
            "gc_ms": sum(counted["seconds"]) * 1000, "threshold": counted["threshold"]}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m bench.collector")
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    found = []
    with tempfile.TemporaryDirectory(prefix="quire-collector-") as tmp:
        for n in range(args.rounds):
            workdir = Path(tmp) / f"round-{n + 1}"  # a fresh database each round
            workdir.mkdir()
            figures = one_round(args.docs, workdir)
            found.append(figures)
            print(f"round {n + 1}: open {figures['open_ms']:.0f} ms, server CPU "
                  f"{figures['server_cpu_ms']:.0f} ms, collections {figures['collections']} "
                  f"taking {figures['gc_ms']:.1f} ms (thresholds {figures['threshold']})")
    print(f"median: collections took {statistics.median(f['gc_ms'] for f in found):.1f} ms of "
          f"{statistics.median(f['server_cpu_ms'] for f in found):.0f} ms of server CPU while "
          f"{args.docs} documents opened")
    return found


if __name__ == "__main__":
    main()
