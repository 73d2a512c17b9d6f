"""Alembic's environment for Quire: the connection comes from `storage.migrations.upgrade`
(or, from the alembic command line, `-x url=...`); the target is SQLModel's metadata."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine
from sqlmodel import SQLModel

from storage import models  # noqa: F401  (registers the tables)

config = context.config
target = SQLModel.metadata


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _migrate(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("give the database: -x url=sqlite:///path/to/quire.db")
    from storage.db import normalise_url

    engine = create_engine(normalise_url(url))
    with engine.begin() as conn:
        _migrate(conn)


def _migrate(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target,
                      render_as_batch=True,  # SQLite alters tables by copying them
                      compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
