"""A real ``quire serve`` subprocess on a free port with a temporary SQLite database, and the
Node packages the JavaScript clients need."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.servers import QuireProcess

ACCOUNT = "interop"  # the account the tests sign in as (its display name is the same)


def require_node(package_dir: Path) -> None:
    """Skip (locally) or fail (in CI) when node or the npm packages are missing."""
    problem = None
    if shutil.which("node") is None:
        problem = "node is not installed"
    elif not (package_dir / "node_modules").is_dir():
        problem = f"run `make node` first ({package_dir.name}/node_modules is missing)"
    if problem:
        if os.environ.get("CI"):
            pytest.fail(problem)
        pytest.skip(problem)


@pytest.fixture(scope="module")
def quire_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QuireProcess]:
    """One server per test module, accounts on (each test uses its own documents, as ACCOUNT,
    whose token the server's `ws()` and `new_doc()` use); tests may restart it."""
    server = QuireProcess(tmp_path_factory.mktemp("quire"), auth=True)
    server.start()
    server.make_account(ACCOUNT, "interop-password")
    try:
        yield server
    finally:
        server.stop()
