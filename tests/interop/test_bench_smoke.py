"""Every benchmark scenario once at --tiny size against the four default servers: the tooling
works, and Quire ends with identical content at every client and no connection errors. The
floor reference (opt-in) is held to the same, in one run of every scenario.

The peers are held only to having been measured: pycrdt-websocket sometimes drops a client
when another one leaves (a known bug of the peer), which the bench reports, not hides."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.scenarios import SCENARIOS
from bench.servers import DEFAULT_SERVERS, QUIRE_SERVERS

from .conftest import require_node

REPO = Path(__file__).resolve().parents[2]


def run_tiny(out: Path, *args: str) -> list[dict]:
    """`python -m bench --tiny ARGS`: it must succeed; its runs, from the JSON it wrote."""
    require_node(REPO / "bench")
    result = subprocess.run(
        [sys.executable, "-m", "bench", "--tiny", *args, "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=220,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return json.loads((out / "latest-tiny.json").read_text())["runs"]


@pytest.mark.timeout(240)
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_bench_scenario_tiny(scenario: str, tmp_path: Path) -> None:
    runs = run_tiny(tmp_path, "--scenarios", scenario)
    assert sorted(run["server"] for run in runs) == sorted(DEFAULT_SERVERS)
    for run in runs:
        if run["server"] in QUIRE_SERVERS:
            assert "error" not in run and run["identical"] and not run["errors"], run
            assert all(value is not None for value in run["metrics"].values()), run
        else:
            assert "metrics" in run or "error" in run, run


@pytest.mark.timeout(240)
def test_bench_floor_reference_tiny(tmp_path: Path) -> None:
    runs = run_tiny(tmp_path, "--servers", "floor", "--strict")
    assert sorted(run["scenario"] for run in runs) == sorted(SCENARIOS)
    for run in runs:
        assert "error" not in run and run["identical"] and not run["errors"], run
