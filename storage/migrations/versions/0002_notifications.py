"""notifications: the notification table, and accounts' email address and email choice

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 12:40:00
"""
from __future__ import annotations

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("user")}
    with op.batch_alter_table("user", schema=None) as batch_op:
        if "email" not in columns:
            batch_op.add_column(sa.Column("email", sa.String(length=254), nullable=True))
        if "email_notifications" not in columns:
            batch_op.add_column(sa.Column("email_notifications", sa.String(length=16),
                                          nullable=False, server_default="all"))

    op.create_table(
        "notification",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True,
                  nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("doc_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("event_key", sa.String(length=200), nullable=False),
        sa.Column("actor_id", sa.String(length=64), nullable=True),
        sa.Column("actor_name", sa.String(length=100), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("quote", sa.String(length=500), nullable=False),
        sa.Column("excerpt", sa.String(length=500), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("read_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("emailed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["doc_id"], ["document.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("user_id", "event_key", name="uq_notification_user_event"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.create_index("ix_notification_user_id_id", ["user_id", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_doc_id"), ["doc_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notification_emailed_at"), ["emailed_at"],
                              unique=False)


def downgrade() -> None:
    op.drop_table("notification")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("email_notifications")
        batch_op.drop_column("email")
