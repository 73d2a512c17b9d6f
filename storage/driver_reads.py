"""Hot reads through the driver's own cursor.

Opening a document reads two small statements (storage/opening.py, storage/updates.py): a few
microseconds each in SQLite's page cache, but some 35 µs each through SQLAlchemy's execution
(its execution context, the compiled cache's key, parameter processing, the result object),
about a tenth of the server's work per document opened (bench/instructions.py). Here such a
statement is compiled once by SQLAlchemy and then run on the driver's cursor: sqlite3's, its
parameters in the compiled order, or psycopg's, prepared on the server from its first run (an
IN list of each size is its own statement, and psycopg would otherwise plan each afresh five
times before preparing it): on PostgreSQL, 2.298 -> 2.182 M instructions per document opened.
A driver error is raised as SQLAlchemy's own (`DBAPIError`), as `Connection.execute` would,
telling whether the connection broke (`connection_invalidated`: server/opener.py then replaces
it), and on a connection not in autocommit SQLAlchemy's transaction is begun first, as its
execution does, so a refused statement is rolled back by `Connection.rollback()` as usual.

Only for statements whose columns need no conversion on the way out (text, integers, bytes:
no dates, no JSON) and whose parameters need none on the way in (text). Any other database
goes through `Connection.execute`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# (dialect name, statement) -> (SQL, the parameters' names in order (SQLite's positional
# style; PostgreSQL's are named), the statement's own values)
_compiled: dict[tuple[str, Any], tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def _compile(conn: Connection, statement: Any) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    key = (conn.dialect.name, statement)
    found = _compiled.get(key)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect)
        found = (compiled.string, tuple(compiled.positiontup or ()),
                 {name: bind.value for name, bind in compiled.binds.items()})
        _compiled[key] = found
    return found


def rows(conn: Connection, statement: Any, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """Every row `statement` reads with `params` (tuples on SQLite and PostgreSQL; Rows, which
    index alike, elsewhere). `statement` must be long-lived (made once, e.g. under
    functools.cache)."""
    if conn.dialect.name == "postgresql":
        return _postgresql_rows(conn, statement, params)
    if conn.dialect.name != "sqlite":
        return conn.execute(statement, params).all()
    sql, order, own = _compile(conn, statement)
    args = tuple(params[name] if name in params else own[name] for name in order)
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    try:
        return driver.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc


def _postgresql_rows(conn: Connection, statement: Any,
                     params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    sql, _, own = _compile(conn, statement)
    args = {**own, **params}
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    if not driver.autocommit and not conn.in_transaction():
        conn.begin()  # as SQLAlchemy's execution would (autobegin): its rollback then applies
    try:
        with driver.cursor() as cursor:
            cursor.execute(sql, args, prepare=True)
            return cursor.fetchall()
    except psycopg.Error as exc:
        broken = driver.broken or driver.closed
        if broken:  # as SQLAlchemy does for a dropped connection: the pool will not reuse it
            conn.invalidate(exc)
        raise DBAPIError.instance(sql, args, exc, psycopg.Error,
                                  connection_invalidated=broken) from exc
