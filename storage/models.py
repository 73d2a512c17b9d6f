"""Tables: documents, the append-only update log, compacted snapshots, quarantined updates,
versions, accounts (users, API tokens, sign-in sessions), shares and notifications.

Updates are opaque bytes here; only `crdt/` knows what they mean.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    false,
)
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(UTC)


class Document(SQLModel, table=True):
    id: str = Field(sa_column=Column(String(64), primary_key=True))
    title: str = Field(default="Untitled", max_length=500)
    # the account that created it; None for documents made by a share-less script or the CLI
    owner_id: str | None = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("user.id", ondelete="SET NULL"), index=True,
                         nullable=True),
    )
    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    # the owner lets editors invite people and make or revoke links (never with a role above
    # editor); only the owner changes it
    editors_can_share: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, default=False,
                                        server_default=false()))


class Update(SQLModel, table=True):
    """One row per persisted Yjs update, in arrival order (`id` is the log position)."""

    # ids must never be reused after compaction deletes the rows below a snapshot
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None,
        # SQLite only auto-increments an INTEGER PRIMARY KEY.
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Snapshot(SQLModel, table=True):
    """The merged state of the log rows compactions folded (each deleted them as it wrote
    this); `upto_id` is the highest log position folded so far."""

    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    upto_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, default=0))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class QuarantinedUpdate(SQLModel, table=True):
    """Stored update bytes a document was opened without, because they could not be read
    safely (nested too deep, malformed): kept for inspection, never loaded again."""

    __tablename__ = "quarantined_update"
    __table_args__ = {"sqlite_autoincrement": True}

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    doc_id: str = Field(sa_column=Column(String(64), index=True, nullable=False))
    sha256: str = Field(sa_column=Column(String(64), nullable=False))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    reason: str = Field(sa_column=Column(String(500), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class Version(SQLModel, table=True):
    """A saved state of a document (history), kept apart from the update log so that compaction
    never touches it.

    Rows form chains: a checkpoint (`chain_id == id`) holds the full state; each later row of
    its chain holds the delta since the previous row of that chain. `data` is zlib-compressed.
    """

    __table_args__ = (Index("ix_version_doc_id_id", "doc_id", "id"), {"sqlite_autoincrement": True})

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"),
                         nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    kind: str = Field(default="auto", sa_column=Column(String(16), nullable=False))
    name: str | None = Field(default=None, sa_column=Column(String(200), nullable=True))
    authors: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    chain_id: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, index=True))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    # the Yjs state vector of the state it holds: whether a newer state is already covered by
    # it (another process cut the version: crdt/versions.py `covers`); NULL for older rows
    state_vector: bytes | None = Field(default=None,
                                       sa_column=Column(LargeBinary, nullable=True))


class User(SQLModel, table=True):
    id: str = Field(sa_column=Column(String(64), primary_key=True))
    username: str = Field(sa_column=Column(String(64), unique=True, index=True, nullable=False))
    display_name: str = Field(sa_column=Column(String(100), nullable=False))
    password_hash: str = Field(sa_column=Column(String(255), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    # where notification emails go (None: none are sent) and which: "all", "mentions" (mentions
    # and shares only) or "none"
    email: str | None = Field(default=None, sa_column=Column(String(254), nullable=True))
    email_notifications: str = Field(
        default="all", sa_column=Column(String(16), nullable=False, server_default="all"))


class ApiToken(SQLModel, table=True):
    """A personal access token for scripts and bots; acts as its user. Only its hash is kept."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: str = Field(
        sa_column=Column(String(64), ForeignKey("user.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    token_hash: str = Field(sa_column=Column(String(64), unique=True, index=True, nullable=False))
    name: str = Field(default="token", sa_column=Column(String(100), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None


class Share(SQLModel, table=True):
    """Access to one document with a role: for a user (an invitation) or for whoever holds a
    link token (`token_hash` set). Either may expire and be revoked."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    role: str = Field(sa_column=Column(String(16), nullable=False))
    user_id: str | None = Field(
        default=None,
        sa_column=Column(String(64), ForeignKey("user.id", ondelete="CASCADE"), index=True,
                         nullable=True),
    )
    token_hash: str | None = Field(
        default=None, sa_column=Column(String(64), unique=True, index=True, nullable=True)
    )
    label: str | None = Field(default=None, sa_column=Column(String(100), nullable=True))
    created_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    revoked_at: datetime | None = None


class LoginSession(SQLModel, table=True):
    """A signed-in browser. Its cookie carries a random session id; only the id's SHA-256 is
    kept here. Signing out, signing out everywhere and changing the password revoke rows; a
    missing, revoked or expired row is a signed-out browser."""

    __tablename__ = "login_session"

    id: str = Field(sa_column=Column(String(64), primary_key=True))  # sha256 of the session id
    user_id: str = Field(
        sa_column=Column(String(64), ForeignKey("user.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(nullable=False, index=True)
    revoked_at: datetime | None = None


class Notification(SQLModel, table=True):
    """Something a person should learn of: one row per event and recipient (`event_key` names the
    event: the message that mentions or answers them, the share that invited them), so the same
    event seen by two server processes is written once. Made by the server from what it stores,
    never on a browser's say-so."""

    __table_args__ = (
        UniqueConstraint("user_id", "event_key", name="uq_notification_user_event"),
        Index("ix_notification_user_id_id", "user_id", "id"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    user_id: str = Field(
        sa_column=Column(String(64), ForeignKey("user.id", ondelete="CASCADE"), nullable=False)
    )
    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    kind: str = Field(sa_column=Column(String(16), nullable=False))  # mention | reply | share
    event_key: str = Field(sa_column=Column(String(200), nullable=False))
    actor_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    actor_name: str = Field(default="", sa_column=Column(String(100), nullable=False))
    thread_id: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    quote: str = Field(default="", sa_column=Column(String(500), nullable=False))
    excerpt: str = Field(default="", sa_column=Column(String(500), nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    read_at: datetime | None = None
    emailed_at: datetime | None = Field(default=None, index=True)


class Webhook(SQLModel, table=True):
    """An owner's URL that gets a signed POST for each of `events` on one document."""

    id: str = Field(sa_column=Column(String(64), primary_key=True))
    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    url: str = Field(sa_column=Column(String(2000), nullable=False))
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # signs each body (HMAC-SHA256); shown once when the webhook is made
    secret: str = Field(sa_column=Column(String(128), nullable=False))
    created_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    created_at: datetime = Field(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One event for one webhook: pending until its receiver answers 2xx, retried with a
    growing wait, given up after the last attempt (status "failed")."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
                      {"sqlite_autoincrement": True})

    id: int | None = Field(
        default=None,
        sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True,
                         autoincrement=True),
    )
    webhook_id: str = Field(
        sa_column=Column(String(64), ForeignKey("webhook.id", ondelete="CASCADE"), index=True,
                         nullable=False)
    )
    event: str = Field(sa_column=Column(String(40), nullable=False))
    payload: str = Field(sa_column=Column(String, nullable=False))  # the JSON body, as sent
    status: str = Field(default="pending", sa_column=Column(String(16), nullable=False))
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(String(300), nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None


class Assignment(SQLModel, table=True):
    """An open comment thread assigned to an account: read off each document's comment data
    when its search index is refreshed (server/search.py), for "Assigned to me" lists."""

    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    thread_id: str = Field(sa_column=Column(String(64), primary_key=True))
    user_id: str = Field(sa_column=Column(String(64), index=True, nullable=False))
    quote: str = Field(default="", sa_column=Column(String(500), nullable=False))
    assigned_by: str = Field(default="", sa_column=Column(String(100), nullable=False))


class Blob(SQLModel, table=True):
    """An uploaded image's bytes, named by their SHA-256 (content-addressed: the same picture
    uploaded twice, to one document or several, is stored once). Already cleaned: re-encoded
    by Pillow without its metadata (storage/images.py)."""

    sha256: str = Field(sa_column=Column(String(64), primary_key=True))
    mime: str = Field(sa_column=Column(String(32), nullable=False))
    size: int = Field(sa_column=Column(BigInteger, nullable=False))
    width: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    height: int = Field(default=0, sa_column=Column(Integer, nullable=False, default=0))
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class DocumentImage(SQLModel, table=True):
    """An image a document may show: only people who can read `doc_id` are served `sha256`
    under it."""

    __tablename__ = "document_image"

    doc_id: str = Field(
        sa_column=Column(String(64), ForeignKey("document.id", ondelete="CASCADE"),
                         primary_key=True)
    )
    sha256: str = Field(
        sa_column=Column(String(64), ForeignKey("blob.sha256"), primary_key=True, index=True)
    )
    created_by: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
