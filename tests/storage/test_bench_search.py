"""`python -m bench.search` runs and measures what it says (tiny sizes, SQLite only)."""

from __future__ import annotations

import json

from bench import search


def test_bench_search_smoke(tmp_path, capsys):
    (run,) = search.main(["--docs", "12", "--words", "60", "--queries", "5", "--no-pg",
                          "--out", str(tmp_path)])
    assert run["engine"] == "sqlite" and run["index_kib_per_doc"] > 0
    assert set(run["queries"]) == set(search.SHAPES)
    assert run["queries"]["one common word"]["matches_median"] > 0
    assert run["queries"]["no match"]["matches_median"] == 0
    assert json.loads((tmp_path / "search-latest.json").read_text()) == [run]
    assert "KiB of index per document" in capsys.readouterr().out
