"""versions keep their Yjs state vector (issue 19: versions across processes)

With it a process can tell that a version another process just cut already covers what it
would store. (Alembic logs the first paragraph as the upgrade's one line.)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05 19:20:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("version")}
    if "state_vector" not in columns:  # (a database adopted at the baseline may have it)
        # a plain ALTER TABLE, not batch mode: on SQLite that would rebuild the table
        op.add_column("version", sa.Column("state_vector", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    op.drop_column("version", "state_vector")  # SQLite 3.35+ drops columns in place
