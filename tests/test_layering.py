"""The dependency rules: crdt/ declares ports and imports neither server/ nor storage/;
storage/ knows neither pycrdt, crdt/ nor server/; nothing imports server/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "crdt": {"server", "storage", "fastapi", "starlette", "sqlmodel", "sqlalchemy"},
    "storage": {"server", "crdt", "pycrdt", "fastapi", "starlette", "websockets"},
}


def imported_roots(path: Path) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_layering(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package}/ has no modules"
    offenders = {
        str(f.relative_to(ROOT)): sorted(imported_roots(f) & FORBIDDEN[package]) for f in files
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_nothing_imports_server():
    for package in ("crdt", "storage"):
        for f in (ROOT / package).rglob("*.py"):
            assert "server" not in imported_roots(f), f
