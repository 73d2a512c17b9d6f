"""A throw-away PostgreSQL database per Quire run: ``quire_bench_<random>``, dropped afterwards."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
SQLALCHEMY_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/{name}"


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
