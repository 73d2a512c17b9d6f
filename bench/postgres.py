"""A throw-away PostgreSQL database per Quire run: ``quire_bench_<random>``, dropped afterwards."""

from __future__ import annotations

import secrets
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SQLALCHEMY_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
T = TypeVar("T")


def available(admin_url: str = ADMIN_URL) -> bool:
    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def temporary_database(admin_url: str = ADMIN_URL) -> Iterator[str]:
    """Create ``quire_bench_<random>`` and yield its SQLAlchemy URL; drop it on exit."""
    name = f"quire_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield SQLALCHEMY_URL.format(name=name)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_each_database(run: Callable[[str, str], T], *, postgresql: bool = True) -> list[T]:
    """``run(label, url)`` on a fresh SQLite file, then (unless told not to, and when it is
    reachable) on a throw-away PostgreSQL database."""
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(run("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}"))
    if postgresql:
        if available():
            with temporary_database() as url:
                results.append(run("postgresql", url))
        else:
            print("PostgreSQL skipped: not reachable at 127.0.0.1:5432")
    return results
