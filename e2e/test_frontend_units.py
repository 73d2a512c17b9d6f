"""The front end's own unit tests (frontend/test, node:test) run as part of the Python suite."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

FRONTEND = Path(__file__).resolve().parents[1] / "frontend"


def test_frontend_unit_tests_pass():
    node = shutil.which("node")
    if node is None or not (FRONTEND / "node_modules").is_dir():
        reason = "node or frontend/node_modules missing (run `make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    result = subprocess.run([node, "--test", "test/"], cwd=FRONTEND, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
