"""`python -m bench.pg_commit` runs and measures what it says: the store's append and a bare
`SELECT 1`, each with 2 ms and 20 ms between samples, on a throw-away PostgreSQL database
(skipped where PostgreSQL is not running; CI fails instead, through the fixture)."""

from __future__ import annotations

import json

from bench import pg_commit


def test_bench_pg_commit_smoke(tmp_path, capsys, pg_database):
    found = pg_commit.main(["--samples", "4", "--out", str(tmp_path)])
    assert set(found) == {"append 2 ms apart", "append 20 ms apart",
                          "select 1 2 ms apart", "select 1 20 ms apart"}
    for figures in found.values():
        assert figures["samples"] == 4 and 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert json.loads((tmp_path / "pg-commit-latest.json").read_text()) == found
    assert "PostgreSQL append 20 ms apart: p50" in capsys.readouterr().out
