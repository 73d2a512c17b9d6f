"""`python -m bench.collector` times what it says: the cycle collections of a real `quire serve`
while documents open, with the thresholds the server set at start (server/cli.py)."""

from __future__ import annotations

from pathlib import Path

from bench import collector

from .conftest import require_node

REPO = Path(__file__).resolve().parents[2]


def test_bench_collector_smoke(capsys):
    require_node(REPO / "bench")
    [figures] = collector.main(["--docs", "60", "--rounds", "1"])
    # the thresholds `quire serve` sets once started: the youngest generation walked every
    # 2,000 objects, the older ones every million (server/cli.py)
    assert figures["threshold"] == [2000, 500, 20]
    # 60 documents leave some 10,000 objects: young collections, timed
    young, middle, old = figures["collections"]
    assert young >= 2 and middle == old == 0
    assert 0 < figures["gc_ms"] < figures["server_cpu_ms"] + 10  # (the CPU clock ticks 10 ms)
    assert "median: collections took" in capsys.readouterr().out
