"""Upgrading databases: every schema change is an Alembic revision (storage/migrations).

`fixtures/quire-2026-12-05.db` was written by the main branch of 5 December 2026, before
migrations, with `create_all` (three accounts with API tokens and a sign-in session, a document
with its snapshot, a comment thread, a named version, an invitation and a share link, its search
entries). Upgrading it keeps every record and the server serves the document as before.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlmodel import SQLModel

from server.config import Settings
from storage import migrations
from storage.db import make_engine
from tests.support.servers import run_server

FIXTURE = Path(__file__).parent / "fixtures" / "quire-2026-12-05.db"
DOC_ID = "N-tKS98T3DGgpa1SCpA6pQ"
COUNTS = {"user": 3, "apitoken": 2, "document": 1, "login_session": 1, "share": 2,
          "snapshot": 1, "version": 1, "search_index": 3}


def counts(path: Path) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {table: con.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
                for table in COUNTS}
    finally:
        con.close()


@pytest.fixture
def old_db(tmp_path) -> Path:
    path = tmp_path / "quire.db"
    shutil.copy(FIXTURE, path)
    return path


async def test_a_database_from_before_migrations_upgrades_without_losing_anything(old_db):
    assert counts(old_db) == COUNTS
    engine = make_engine(f"sqlite:///{old_db}")
    assert migrations.current(engine) == migrations.head()
    engine.dispose()
    assert counts(old_db) == COUNTS
    async with run_server(Settings(database_url=f"sqlite:///{old_db}")) as server:
        async with server.client() as http:  # the fixture's owner ("tester"), a new token
            content = (await http.get(f"/api/docs/{DOC_ID}/content")).json()
            assert content["text"].splitlines() == [
                "First paragraph survives upgrades.", "Second one too.", "Third, after compaction."]
            (thread,) = (await http.get(f"/api/docs/{DOC_ID}/comments")).json()["items"]
            assert thread["quote"] == "survives"
            assert thread["messages"][0]["body"] == "Does it really?"
            versions = (await http.get(f"/api/docs/{DOC_ID}/versions")).json()["items"]
            assert [v["name"] for v in versions if v["kind"] == "named"] == ["Before the upgrade"]
            shares = (await http.get(f"/api/docs/{DOC_ID}/shares")).json()
            assert sorted(s["role"] for s in shares) == ["commenter", "viewer"]
            hits = (await http.get("/api/search", params={"q": "survives"})).json()["items"]
            assert {h["doc_id"] for h in hits} == {DOC_ID}


def test_an_older_database_gets_the_tables_it_lacks(old_db):
    con = sqlite3.connect(old_db)
    for table in ("login_session", "quarantined_update", "search_index"):
        con.execute(f'DROP TABLE "{table}"')
    con.commit()
    con.close()
    engine = make_engine(f"sqlite:///{old_db}")
    tables = set(inspect(engine).get_table_names())
    assert {"login_session", "quarantined_update", "search_index", "alembic_version"} <= tables
    assert migrations.current(engine) == migrations.head()
    engine.dispose()
    kept = counts_without(old_db, {"login_session", "search_index"})
    assert kept == {k: v for k, v in COUNTS.items() if k not in {"login_session", "search_index"}}


def counts_without(path: Path, skip: set[str]) -> dict[str, int]:
    con = sqlite3.connect(path)
    try:
        return {t: con.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                for t in COUNTS if t not in skip}
    finally:
        con.close()


def test_processes_starting_together_upgrade_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    errors: list[BaseException] = []

    def start() -> None:
        try:
            make_engine(url).dispose()
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    engine = create_engine(url)
    assert migrations.current(engine) == migrations.head()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM alembic_version")).scalar_one() == 1
    engine.dispose()


def test_a_postgres_database_from_before_migrations_upgrades(pg_database):
    from storage import documents, models  # noqa: F401

    # a separate database, its schema as create_all made it before migrations
    base = pg_database.rsplit("/", 1)[0]
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    name = pg_database.rsplit("/", 1)[1] + "_old"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{base}/{name}"
    try:
        old = create_engine(url)
        SQLModel.metadata.create_all(old, tables=[SQLModel.metadata.tables[name]
                                                  for name in migrations.BASELINE_TABLES])
        with old.begin() as conn:
            conn.execute(text("INSERT INTO document (id, title, created_at, updated_at) "
                              "VALUES ('d1', 'Kept', now(), now())"))
            conn.execute(text("INSERT INTO \"update\" (doc_id, data, created_at) "
                              "VALUES ('d1', '\\x0000'::bytea, now())"))
        old.dispose()
        errors: list[BaseException] = []

        def start() -> None:
            try:
                make_engine(url).dispose()
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        engine = make_engine(url)
        assert migrations.current(engine) == migrations.head()
        assert documents.get_document(engine, doc_id="d1").title == "Kept"
        assert "search_entry" in inspect(engine).get_table_names()
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_the_newest_revision_makes_the_tables_the_code_describes(tmp_path):
    """Every model change comes with its revision: a database upgraded from nothing matches
    the models (Alembic's comparison finds nothing to add, drop or alter)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from storage import models  # noqa: F401  (registers the tables)

    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")
    try:
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), SQLModel.metadata)
    finally:
        engine.dispose()
    # the search index's tables are made by hand in the baseline (FTS5), not by a model
    diff = [d for d in diff if not (d[0] == "remove_table" and d[1].name.startswith("search_"))]
    assert diff == [], diff
