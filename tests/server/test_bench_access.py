"""`python -m bench.access` runs and measures what it says (a few people, SQLite only): every
person of the storm is let into their own document and every re-checked connection is kept."""

from __future__ import annotations

import json

from bench import access


def test_bench_access_smoke(tmp_path, capsys):
    (run,) = access.main(["--people", "12", "--window", "5", "--no-pg", "--out", str(tmp_path)])
    assert run["engine"] == "sqlite" and run["people"] == 12
    for moment in ("reconnect_storm", "recheck"):
        assert run[moment]["wall_ms"] > 0 and run[moment]["cpu_ms"] >= 0
    assert json.loads((tmp_path / "access-latest.json").read_text()) == [run]
    assert "re-checking their 12 connections" in capsys.readouterr().out
