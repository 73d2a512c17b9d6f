"""Hot reads on SQLite through the driver's own cursor.

Opening a document reads two small statements (storage/opening.py, storage/updates.py): a few
microseconds each in SQLite's page cache, but some 35 µs each through SQLAlchemy's execution
(its execution context, the compiled cache's key, parameter processing, the result object),
about a tenth of the server's work per document opened (bench/instructions.py). Here such a
statement is compiled once by SQLAlchemy and then run on the sqlite3 cursor, its parameters
in the compiled order; a driver error is raised as SQLAlchemy's own (`DBAPIError`), as
`Connection.execute` would.

Only for statements whose columns need no conversion on the way out (text, integers, bytes:
no dates, no JSON) and whose parameters need none on the way in (text). On every other
database the statement goes through `Connection.execute`: there a round trip costs more than
SQLAlchemy, and its handling of a connection that broke is needed (server/opener.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

# statement -> (SQL, the parameters' names in order, the statement's own values)
_compiled: dict[Any, tuple[str, tuple[str, ...], dict[str, Any]]] = {}


def rows(conn: Connection, statement: Any, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
    """Every row `statement` reads with `params` (tuples on SQLite; Rows, which index alike,
    elsewhere). `statement` must be long-lived (made once, e.g. under functools.cache)."""
    if conn.dialect.name != "sqlite":
        return conn.execute(statement, params).all()
    found = _compiled.get(statement)
    if found is None:
        compiled = statement.compile(dialect=conn.dialect)
        found = (compiled.string, tuple(compiled.positiontup or ()),
                 {name: bind.value for name, bind in compiled.binds.items()})
        _compiled[statement] = found
    sql, order, own = found
    args = tuple(params[name] if name in params else own[name] for name in order)
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    try:
        return driver.execute(sql, args).fetchall()
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, args, exc, sqlite3.Error) from exc
