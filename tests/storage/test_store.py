"""SqlStore. On SQLite, a keystroke's commit runs on the event loop only when it cannot wait for
anything; when another connection holds the write lock it goes through the writer thread, the
loop stays free and the order of appends is kept. On PostgreSQL, batches are committed from the
loop on a connection of the store's own; a dead connection fails its batch and is replaced."""

from __future__ import annotations

import asyncio
import sqlite3

from storage import documents, updates
from storage.db import make_engine
from storage.store import SqlStore


def stored(engine, doc_id: str) -> list[bytes]:
    return updates.load_updates(engine, doc_id=doc_id).updates


async def test_append_commits_at_once_when_the_database_is_free(sqlite_url):
    engine = make_engine(sqlite_url)
    doc = documents.create_document(engine, title="t")
    async with SqlStore(engine) as store:
        await store.append(doc.id, [b"one", b"two"])
        # durable before append returned: another engine (another process) reads it
        assert stored(make_engine(sqlite_url), doc.id) == [b"one", b"two"]


async def test_locked_database_waits_in_the_writer_thread_and_keeps_order(sqlite_url):
    engine = make_engine(sqlite_url)
    doc = documents.create_document(engine, title="t")
    path = engine.url.database
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.005)
            ticks += 1

    async with SqlStore(engine) as store:
        beat = asyncio.create_task(heartbeat())
        first = asyncio.create_task(store.append(doc.id, [b"first"]))
        await asyncio.sleep(0.05)
        second = asyncio.create_task(store.append(doc.id, [b"second"]))
        await asyncio.sleep(0.25)
        assert not first.done() and not second.done()  # nothing committed under the lock
        assert ticks >= 20  # and the loop kept running meanwhile
        blocker.execute("COMMIT")
        await asyncio.wait_for(asyncio.gather(first, second), 5)
        # once the lock is free, appends commit on the loop again
        await store.append(doc.id, [b"third"])
        beat.cancel()
    blocker.close()
    assert stored(engine, doc.id) == [b"first", b"second", b"third"]


async def test_a_refused_commit_raises_and_writes_nothing(sqlite_url):
    engine = make_engine(sqlite_url)
    doc = documents.create_document(engine, title="t")
    async with SqlStore(engine) as store:
        try:
            await store.append("no-such-document", [b"orphan"])  # foreign key refuses it
        except sqlite3.IntegrityError:
            pass
        else:
            raise AssertionError("an update of an unknown document was stored")
        await store.append(doc.id, [b"kept"])
    assert stored(engine, doc.id) == [b"kept"]
    assert stored(engine, "no-such-document") == []


# ---- PostgreSQL: batches committed from the loop (storage/pg_append.py) ------------------------


async def test_postgres_appends_are_durable_in_order_and_grouped(pg_database):
    engine = make_engine(pg_database)
    docs = [documents.create_document(engine, title=f"d{n}") for n in range(5)]
    ticks = 0

    async def heartbeat() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0)
            ticks += 1

    async with SqlStore(engine) as store:
        beat = asyncio.create_task(heartbeat())
        # 5 documents x 40 keystrokes, all in flight at once, as 5 busy rooms would send them
        await asyncio.gather(*(store.append(doc.id, [f"{doc.title}-{i}".encode()])
                               for i in range(40) for doc in docs))
        beat.cancel()
        assert ticks > 0  # the loop ran while commits were in flight
    fresh = make_engine(pg_database)  # another process's view: committed, in order
    for doc in docs:
        assert stored(fresh, doc.id) == [f"{doc.title}-{i}".encode() for i in range(40)]
    fresh.dispose()
    engine.dispose()


async def test_postgres_broken_connection_fails_that_batch_only_and_recovers(pg_database):
    import psycopg
    from sqlalchemy import text

    engine = make_engine(pg_database)
    doc = documents.create_document(engine, title="t")
    async with SqlStore(engine) as store:
        await store.append(doc.id, [b"before"])
        with engine.connect() as admin:  # the store's connection dies (a failover, a restart)
            admin.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = 'quire-append'"))
            admin.commit()
        try:
            await store.append(doc.id, [b"lost-with-its-connection"])
        except psycopg.Error:
            pass  # the caller is told; the room then resyncs its clients (nothing acknowledged)
        else:
            raise AssertionError("an append on a dead connection reported success")
        await store.append(doc.id, [b"after"])  # a fresh connection
        try:
            await store.append("no-such-document", [b"orphan"])  # foreign key refuses it
        except psycopg.Error:
            pass
        else:
            raise AssertionError("an update of an unknown document was stored")
        await store.append(doc.id, [b"kept"])
    assert stored(engine, doc.id) == [b"before", b"after", b"kept"]
    engine.dispose()


async def test_an_edit_moves_the_edit_time_at_most_once_a_second(db_url):
    """Every path that stores keystrokes (SQLite on the loop, the writer thread, PostgreSQL's
    statement) moves a document's `updated_at` ("last edited") only once it is a second old:
    a keystroke no longer rewrites the document's row each time."""
    from datetime import timedelta

    from sqlalchemy import text

    from storage.models import utcnow

    engine = make_engine(db_url)
    doc = documents.create_document(engine, title="t")

    def edited_at():
        return documents.get_document(engine, doc_id=doc.id).updated_at

    def age_it(seconds: float) -> None:
        with engine.begin() as conn:
            conn.execute(text("UPDATE document SET updated_at = :at WHERE id = :id"),
                         {"at": (utcnow() - timedelta(seconds=seconds)).replace(tzinfo=None),
                          "id": doc.id})

    async with SqlStore(engine) as store:
        age_it(5)
        aged = edited_at()
        await store.append(doc.id, [b"one"])
        moved = edited_at()
        assert moved - aged > timedelta(seconds=4)  # stale: moved to now
        await store.append(doc.id, [b"two"])
        assert edited_at() == moved  # a moment later: left as it is
        age_it(1.5)
        await store.append(doc.id, [b"three"])
        assert utcnow().replace(tzinfo=None) - edited_at().replace(tzinfo=None) < timedelta(seconds=1)
    updates.append_updates(engine, [(doc.id, b"four")])  # the writer thread's statement
    assert stored(engine, doc.id) == [b"one", b"two", b"three", b"four"]
    age_it(3)
    updates.append_updates(engine, [(doc.id, b"five")])
    assert utcnow().replace(tzinfo=None) - edited_at().replace(tzinfo=None) < timedelta(seconds=1)
    engine.dispose()


async def test_postgres_batches_of_every_shape_keep_their_order_and_move_the_edit_time(pg_database):
    """A batch up to `LISTED_ROWS` rows is a VALUES list, a larger one goes through `unnest`
    (storage/pg_append.py): either way its rows are stored in the order given, interleaved
    across documents, and each document it touches is marked as edited."""
    from datetime import timedelta

    from sqlalchemy import text

    from storage.models import utcnow
    from storage.pg_append import LISTED_ROWS, PgAppender

    engine = make_engine(pg_database)
    docs = [documents.create_document(engine, title=f"d{n}") for n in range(3)]
    expected: dict[str, list[bytes]] = {doc.id: [] for doc in docs}
    appender = PgAppender(engine)
    try:
        for size in (1, 2, LISTED_ROWS, LISTED_ROWS + 1, 100):
            with engine.begin() as conn:  # every document's edit time a minute old
                conn.execute(text("UPDATE document SET updated_at = :at"),
                             {"at": (utcnow() - timedelta(minutes=1)).replace(tzinfo=None)})
            rows = [(docs[n % len(docs)].id, f"{size}-{n}".encode()) for n in range(size)]
            await appender.append(rows)
            for doc_id, data in rows:
                expected[doc_id].append(data)
            for doc in docs:
                assert stored(engine, doc.id) == expected[doc.id]
                edited = documents.get_document(engine, doc_id=doc.id).updated_at
                moved = utcnow().replace(tzinfo=None) - edited.replace(tzinfo=None) < timedelta(seconds=5)
                assert moved == any(doc_id == doc.id for doc_id, _ in rows), (size, doc.title)
    finally:
        await appender.close()
        engine.dispose()
