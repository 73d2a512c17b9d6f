"""`quire backup` while the server runs, `quire restore` into an empty database, on SQLite and
PostgreSQL: every document's content, comments, versions, accounts and shares come back, and the
restored database takes new writes."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText
from sqlalchemy import create_engine, text

from crdt.comments import list_threads
from crdt.gate import stored_state
from crdt.plain_text import document_text
from server.config import Settings
from storage.backup import BackupError, restore
from storage.db import make_engine
from storage.documents import all_document_ids
from storage.updates import append_updates, load_updates
from tests.support.servers import run_server


def snapshot(url: str) -> dict:
    """Everything a person would miss: each document's text and comments, and the rows."""
    engine = make_engine(url)
    try:
        docs = {}
        for doc_id in all_document_ids(engine):
            doc: Doc = Doc()
            doc.apply_update(stored_state(load_updates(engine, doc_id=doc_id).updates)[0])
            docs[doc_id] = (document_text(doc),
                            [(t["quote"], [m["body"] for m in t["messages"]])
                             for t in list_threads(doc)])
        with engine.connect() as conn:
            rows = {t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar_one()
                    for t in ("user", "apitoken", "share", "login_session")}
            named = sorted(conn.execute(text(
                "SELECT name FROM version WHERE kind = 'named'")).scalars())
        return {"docs": docs, "rows": rows, "named": named}
    finally:
        engine.dispose()


async def fill(server, n: int = 3) -> list[str]:
    ids = []
    for i in range(n):
        doc_id = await server.new_doc(f"Paper {i}")
        room = await server.rooms.with_room(doc_id)
        with room.doc.transaction():
            room.doc.get("default", type=XmlFragment).children.append(
                XmlElement("paragraph")).children.append(XmlText(f"Body of paper {i}, Zoë 😀."))
        await room.drain()
        async with server.client() as http:
            assert (await http.post(f"/api/docs/{doc_id}/comments",
                                    json={"quote": "Body", "body": f"note {i}"})).status_code == 201
            assert (await http.post(f"/api/docs/{doc_id}/versions",
                                    json={"name": f"v{i}"})).status_code == 201
            assert (await http.post(f"/api/docs/{doc_id}/links",
                                    json={"role": "viewer"})).status_code == 201
        ids.append(doc_id)
    return ids


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True,
                          text=True)


async def test_sqlite_backup_while_writing_then_restore(tmp_path):
    url = f"sqlite:///{tmp_path / 'live.db'}"
    async with run_server(Settings(database_url=url, unload_after=30)) as server:
        ids = await fill(server)
        room = await server.rooms.with_room(ids[0])
        paragraph = room.doc.get("default", type=XmlFragment).children[0].children[0]
        stop = asyncio.Event()

        async def typist() -> None:  # writes all through the backup
            while not stop.is_set():
                paragraph.insert(len(str(paragraph)), "x")
                await room.drain()
                await asyncio.sleep(0.002)

        task = asyncio.create_task(typist())
        await asyncio.sleep(0.2)
        done = await asyncio.to_thread(cli, "backup", str(tmp_path / "copy.db"),
                                       "--database-url", url)
        await asyncio.sleep(0.1)
        stop.set()
        await task
        assert done.returncode == 0, done.stderr
        assert "backed up 3 documents" in done.stdout
    restored = f"sqlite:///{tmp_path / 'restored.db'}"
    done = cli("restore", str(tmp_path / "copy.db"), "--database-url", restored)
    assert done.returncode == 0, done.stderr
    before, after = snapshot(url), snapshot(restored)
    # (stopping the server took one more automatic version, after the backup)
    assert after["rows"] == before["rows"] and after["named"] == before["named"] == ["v0", "v1", "v2"]
    for doc_id in ids[1:]:
        assert after["docs"][doc_id] == before["docs"][doc_id]
    # the document being typed into comes back as it was at some moment of the backup
    typed_then, _ = after["docs"][ids[0]]
    typed_now, comments = before["docs"][ids[0]]
    assert typed_now.startswith(typed_then) and set(typed_now[len(typed_then):]) <= {"x"}
    assert after["docs"][ids[0]][1] == comments
    # and refuses to restore over it
    again = cli("restore", str(tmp_path / "copy.db"), "--database-url", restored)
    assert again.returncode != 0 and "not empty" in again.stderr


@pytest.fixture
def two_pg_databases(pg_database):
    base = pg_database.rsplit("/", 1)[0]
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    stem = pg_database.rsplit("/", 1)[1]
    names = [f"{stem}_src", f"{stem}_dst"]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield [f"{base}/{name}" for name in names]
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


async def test_postgres_portable_backup_and_restore(two_pg_databases, tmp_path):
    source, target = two_pg_databases
    async with run_server(Settings(database_url=source, unload_after=0.2)) as server:
        ids = await fill(server)
        done = await asyncio.to_thread(cli, "backup", str(tmp_path / "quire.jsonl"),
                                       "--database-url", source)
        assert done.returncode == 0, done.stderr
    done = cli("restore", str(tmp_path / "quire.jsonl"), "--database-url", target)
    assert done.returncode == 0, done.stderr
    before, after = snapshot(source), snapshot(target)
    assert after == before and set(after["docs"]) == set(ids)
    assert all("Zoë 😀" in text_ for text_, _ in after["docs"].values())
    # the restored database takes new writes (its id sequences moved past the rows)
    engine = make_engine(target)
    append_updates(engine, [(ids[0], b"\x00\x00")])
    engine.dispose()
    # a portable backup restores into SQLite too
    sqlite_url = f"sqlite:///{tmp_path / 'from-pg.db'}"
    assert restore(tmp_path / "quire.jsonl", sqlite_url) == 3
    assert snapshot(sqlite_url)["docs"] == before["docs"]


def test_what_is_not_a_backup_is_refused(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hello": 1}\n')
    with pytest.raises(BackupError, match="not a Quire backup"):
        restore(bad, f"sqlite:///{tmp_path / 'x.db'}")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\xff\xfe not json")
    with pytest.raises(BackupError, match="not JSON lines"):
        restore(garbage, f"sqlite:///{tmp_path / 'y.db'}")
    assert Path(tmp_path / "x.db").exists()  # the schema was made; nothing else
