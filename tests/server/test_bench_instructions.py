"""`python -m bench.instructions` runs and counts what it says: Quire under callgrind, counting
switched on only while the documents open (valgrind is on every machine this project runs on:
without it the test skips with the reason, and fails under CI)."""

from __future__ import annotations

import json
import shutil

import pytest

from bench import instructions
from tests.support.services import IN_CI


def test_bench_instructions_smoke(tmp_path, capsys):
    if shutil.which("valgrind") is None:
        if IN_CI:
            pytest.fail("valgrind is not installed (CI must run this test)")
        pytest.skip("valgrind not installed")
    found = instructions.main(["--docs", "3", "--servers", "quire-sqlite", "--out", str(tmp_path)])
    figures = found["quire-sqlite"]
    # a Python server runs hundreds of thousands of instructions per handshake and room; far
    # fewer would mean counting was never switched on while the documents opened
    assert figures["docs"] == 3 and figures["instructions_per_doc"] > 100_000
    assert json.loads((tmp_path / "instructions-latest.json").read_text()) == found
    assert "quire-sqlite: " in capsys.readouterr().out
