"""`python -m bench.compaction` runs and measures what it says: keystrokes into a large and a
small document on a real `quire serve` while the large one's log is compacted (tiny sizes,
compacting every 20 updates so compactions happen while typing), on SQLite and PostgreSQL
(skipped where PostgreSQL is not running; CI fails instead, through the fixture)."""

from __future__ import annotations

import json

import pytest

from bench import compaction

pytestmark = pytest.mark.timeout(120)


def check(found: dict) -> None:
    assert found["large_chars"] >= 3000 and found["keystrokes"] == 40
    assert found["compactions"] >= 2  # the typing itself compacted both documents' logs
    for name in ("large", "small"):
        figures = found[name]
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
        assert len(figures["slowest_keystrokes"]) == 3


def test_bench_compaction_smoke_on_sqlite(tmp_path, capsys):
    found = compaction.main(["--chars", "3000", "--keystrokes", "40", "--compact-every", "20",
                             "--out", str(tmp_path)])
    check(found)
    assert json.loads((tmp_path / "compaction-latest.json").read_text()) == found
    assert "SQLite, large document: p50" in capsys.readouterr().out


def test_bench_compaction_smoke_on_postgresql(tmp_path, capsys, pg_database):
    found = compaction.main(["--chars", "3000", "--keystrokes", "40", "--compact-every", "20",
                             "--pg", "--out", str(tmp_path)])
    check(found)
    assert json.loads((tmp_path / "compaction-pg-latest.json").read_text()) == found
    assert "PostgreSQL, small document: p50" in capsys.readouterr().out
