"""editors share: the owner may let a document's editors invite people and make links

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 10:00:00
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("document")}
    if "editors_can_share" not in columns:  # (a database adopted at the baseline may have it)
        # a plain ALTER TABLE, not batch mode: on SQLite that rebuilds the table, and dropping
        # the old `document` deletes every share, snapshot and version (ON DELETE CASCADE)
        op.add_column("document", sa.Column("editors_can_share", sa.Boolean(), nullable=False,
                                            server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("document", "editors_can_share")  # SQLite 3.35+ drops columns in place
