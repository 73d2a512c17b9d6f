"""`python -m bench.gate` runs and measures what it says (tiny sizes)."""

from __future__ import annotations

import json

from bench import gate


def test_bench_gate_smoke(tmp_path, capsys):
    result = gate.main(["--chars", "3000", "--repeat", "20", "--out", str(tmp_path)])
    assert result["index_runs"] > 0
    for name in ("editor_keystroke_check", "editor_keystroke_learn", "commenter_update_check"):
        assert 0 < result[name]["p50_us"] < 50_000
    assert json.loads((tmp_path / "gate-latest.json").read_text()) == result
    assert "commenter_update_check" in capsys.readouterr().out
