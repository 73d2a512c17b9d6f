"""Hot reads through the driver's cursor (storage/driver_reads.py: sqlite3's, psycopg's) answer
exactly as SQLAlchemy's execution does, on SQLite and on PostgreSQL.

| asked                                                    | answered                                 |
|----------------------------------------------------------|------------------------------------------|
| owners of documents, one without an owner, one missing    | the same rows as `Connection.execute`    |
| stored state (a statement with a literal of its own)      | the same rows, the literal bound         |
| an id written as SQL (`' OR '1'='1`)                      | a value like any other: no row, no harm  |
| a statement the database refuses                          | SQLAlchemy's DBAPIError; conn still works |
|   (PostgreSQL, in a transaction)                          | `Connection.rollback()` ends it          |
| PostgreSQL ends the connection (a restart)                | DBAPIError, `connection_invalidated`     |
"""

from __future__ import annotations

from secrets import token_hex

import pytest
from sqlalchemy import column, select, table
from sqlalchemy.exc import DBAPIError

from storage import accounts, documents, driver_reads, updates
from storage.db import make_engine
from storage.in_lists import bound, slots
from storage.opening import _owners
from storage.updates import _stored


def _docs(engine):
    owner = accounts.create_user(engine, username=f"ann{token_hex(4)}", display_name="Ann",
                                 password_hash="x")
    mine = documents.create_document(engine, title="mine", owner_id=owner.id).id
    nobodys = documents.create_document(engine, title="nobody's").id
    updates.append_updates(engine, [(mine, b"\x01"), (mine, b"\x02"), (nobodys, b"\x03")])
    return owner, mine, nobodys


def test_rows_match_sqlalchemy_execution(db_url):
    engine = make_engine(db_url)
    owner, mine, nobodys = _docs(engine)
    asked = sorted([mine, nobodys, "missing"])
    with engine.connect() as conn:
        for statement in (_owners(slots(3)), _stored(slots(3))):
            fast = driver_reads.rows(conn, statement, bound("d", asked))
            slow = [tuple(row) for row in conn.execute(statement, bound("d", asked))]
            assert [tuple(row) for row in fast] == slow
            assert slow  # the comparison is about rows, not two empty lists
        owners = dict(driver_reads.rows(conn, _owners(slots(3)), bound("d", asked)))
    assert owners == {mine: owner.id, nobodys: None}


def test_an_id_written_as_sql_is_only_a_value(db_url):
    engine = make_engine(db_url)
    _docs(engine)
    before = documents.all_document_ids(engine)  # PostgreSQL's is shared by the run's tests
    with engine.connect() as conn:
        for hostile in ("x' OR '1'='1", '"; DROP TABLE document; --', "%s", "?"):
            assert driver_reads.rows(conn, _owners(1), {"d0": hostile}) == []
        assert len(driver_reads.rows(conn, _owners(2), bound("d", ["?", "%s"]))) == 0
    assert documents.all_document_ids(engine) == before
    engine.dispose()


def test_a_refused_statement_raises_sqlalchemys_error_and_the_connection_goes_on(db_url):
    engine = make_engine(db_url)
    _, mine, _ = _docs(engine)
    missing = select(column("id")).select_from(table("no_such_table")).where(column("id") == "x")
    with engine.connect() as conn:  # in a transaction, as SQLAlchemy begins one
        with pytest.raises(DBAPIError, match="no such table|does not exist") as refused:
            driver_reads.rows(conn, missing, {})
        assert not refused.value.connection_invalidated
        conn.rollback()  # PostgreSQL's transaction is aborted until then, as with execute()
        assert [tuple(r) for r in driver_reads.rows(conn, _owners(1), {"d0": mine})] != []
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:  # the opener's
        with pytest.raises(DBAPIError):
            driver_reads.rows(conn, missing, {})
        assert [tuple(r) for r in driver_reads.rows(conn, _owners(1), {"d0": mine})] != []
    engine.dispose()


def test_a_connection_postgresql_ended_is_reported_invalidated(pg_database):
    """What the opener (server/opener.py) reads to replace its connection and read again."""
    from sqlalchemy import text

    engine = make_engine(pg_database)
    _, mine, _ = _docs(engine)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        assert driver_reads.rows(conn, _owners(1), {"d0": mine})
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
        with engine.connect() as admin:
            admin.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        with pytest.raises(DBAPIError) as ended:
            driver_reads.rows(conn, _owners(1), {"d0": mine})
        assert ended.value.connection_invalidated and conn.invalidated
    with engine.connect() as fresh:  # the pool hands out a working connection
        assert driver_reads.rows(fresh, _owners(1), {"d0": mine})
    engine.dispose()
