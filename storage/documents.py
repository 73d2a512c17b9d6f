"""Documents: create, list, get, rename, copy, settings, delete. Keyword-only, synchronous."""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import ColumnElement, func, insert, or_
from sqlalchemy import delete as sa_delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage import search
from storage.models import Document, DocumentImage, Share, Snapshot, Update, User, utcnow


def new_id() -> str:
    """An unguessable document id (128 random bits, URL-safe), never starting with "-": a
    command line (`quire export ID`) would take that for an option."""
    while True:
        doc_id = secrets.token_urlsafe(16)
        if not doc_id.startswith("-"):
            return doc_id


def create_document(engine: Engine, *, title: str, doc_id: str | None = None,
                    owner_id: str | None = None) -> Document:
    with Session(engine) as session:
        doc = Document(id=doc_id or new_id(), title=title, owner_id=owner_id)
        session.add(doc)
        session.commit()
        session.refresh(doc)
        return doc


def get_document(engine: Engine, *, doc_id: str) -> Document | None:
    with Session(engine) as session:
        return session.get(Document, doc_id)


def document_exists(engine: Engine, *, doc_id: str) -> bool:
    with Session(engine) as session:
        return session.exec(select(Document.id).where(Document.id == doc_id)).first() is not None


def all_document_ids(engine: Engine) -> list[str]:
    """Every document's id, oldest first (for maintenance: reindexing)."""
    with Session(engine) as session:
        return list(session.exec(select(Document.id).order_by(col(Document.created_at))).all())


SORTS = ("edited", "title", "created")


def list_documents(
    engine: Engine, *, q: str | None = None, limit: int = 50, offset: int = 0,
    visible_to: str | None = None, sort: str = "edited", whose: str = "all",
) -> tuple[list[tuple[Document, str | None]], int]:
    """`sort`: newest edited first ("edited"), by title ("title", case-insensitive) or newest
    created first ("created"); `q` matches titles case-insensitively; `visible_to` keeps the
    documents that user owns or was invited to, and of those `whose` "mine" the ones they own,
    "shared" the ones shared with them. Returns (page, total): the page as (document, its
    owner's display name or None), read in one query."""
    from storage.shares import visible_document_ids_clause

    orders: dict[str, list[ColumnElement[Any]]] = {
        "edited": [col(Document.updated_at).desc()],
        "title": [func.lower(col(Document.title))],
        "created": [col(Document.created_at).desc()],
    }
    order = orders[sort]
    with Session(engine) as session:
        where = []
        if visible_to is not None:
            where.append(visible_document_ids_clause(visible_to))
            if whose == "mine":
                where.append(col(Document.owner_id) == visible_to)
            elif whose == "shared":
                where.append(or_(col(Document.owner_id).is_(None), col(Document.owner_id) != visible_to))
        if q:
            escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            where.append(col(Document.title).ilike(f"%{escaped}%", escape="\\"))
        total = session.exec(select(func.count()).select_from(Document).where(*where)).one()
        rows = session.exec(
            select(Document, User.display_name)
            .join(User, col(User.id) == col(Document.owner_id), isouter=True)
            .where(*where)
            .order_by(*order, col(Document.id))
            .offset(offset)
            .limit(limit)
        ).all()
        return [(doc, name) for doc, name in rows], int(total)


def owner_name(engine: Engine, *, doc: Document) -> str | None:
    """The display name of the document's owner (None: no owner, or the account is gone)."""
    if doc.owner_id is None:
        return None
    with Session(engine) as session:
        return session.exec(select(User.display_name).where(User.id == doc.owner_id)).first()


def rename_document(engine: Engine, *, doc_id: str, title: str) -> Document | None:
    with Session(engine) as session:
        doc = session.get(Document, doc_id)
        if doc is None:
            return None
        doc.title = title
        doc.updated_at = utcnow()
        session.add(doc)
        session.commit()
        session.refresh(doc)
        return doc


def set_editors_can_share(engine: Engine, *, doc_id: str, allowed: bool) -> Document | None:
    """Let the document's editors share it, or not (a setting: the document is not "edited")."""
    with Session(engine) as session:
        doc = session.get(Document, doc_id)
        if doc is None:
            return None
        doc.editors_can_share = allowed
        session.add(doc)
        session.commit()
        session.refresh(doc)
        return doc


def copy_document(engine: Engine, *, source_id: str, doc_id: str, title: str,
                  owner_id: str | None, update: bytes) -> Document | None:
    """A new document `doc_id` owned by `owner_id` whose first update is `update` (the source's
    content, prepared by the caller), allowed to show every image `source_id` may show: one
    transaction, so a copy never exists without its images. None if the source is gone."""
    with Session(engine) as session:
        if session.get(Document, source_id) is None:
            return None
        doc = Document(id=doc_id, title=title, owner_id=owner_id)
        session.add(doc)
        session.flush()
        session.add(Update(doc_id=doc_id, data=update))
        shas = session.exec(select(DocumentImage.sha256)
                            .where(DocumentImage.doc_id == source_id)).all()
        if shas:
            now = utcnow()
            session.execute(insert(DocumentImage), [
                {"doc_id": doc_id, "sha256": sha, "created_by": owner_id, "created_at": now}
                for sha in shas])
        session.commit()
        session.refresh(doc)
        return doc


def delete_document(engine: Engine, *, doc_id: str) -> bool:
    """Delete a document with its log, snapshot, shares and search entries. Returns False if it
    did not exist."""
    with Session(engine) as session:
        session.execute(sa_delete(Update).where(col(Update.doc_id) == doc_id))
        session.execute(sa_delete(Snapshot).where(col(Snapshot.doc_id) == doc_id))
        session.execute(sa_delete(Share).where(col(Share.doc_id) == doc_id))
        search.remove_in(session.connection(), doc_id=doc_id)  # (an FTS5 table has no cascade)
        result = session.exec(sa_delete(Document).where(col(Document.id) == doc_id))
        session.commit()
        return result.rowcount > 0
