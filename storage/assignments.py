"""Open comment threads assigned to accounts, per document (a derived index: rewritten from the
document's comment data). Blocking functions: run them off the event loop."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from storage.models import Assignment, Document


def replace_for(engine: Engine, *, doc_id: str, rows: Sequence[Assignment]) -> None:
    """Make `rows` the document's open assignments, in one transaction."""
    with Session(engine) as session:
        session.connection().execute(delete(Assignment).where(col(Assignment.doc_id) == doc_id))
        if session.get(Document, doc_id) is not None:
            for row in rows:
                session.add(Assignment(doc_id=doc_id, thread_id=row.thread_id[:64],
                                       user_id=row.user_id[:64], quote=row.quote[:500],
                                       assigned_by=row.assigned_by[:100]))
        session.commit()


def assigned_to(engine: Engine, *, user_id: str, limit: int = 100) -> list[tuple[Assignment, Document]]:
    with Session(engine) as session:
        return [(a, d) for a, d in session.exec(
            select(Assignment, Document).join(Document, col(Document.id) == col(Assignment.doc_id))
            .where(Assignment.user_id == user_id)
            .order_by(col(Document.updated_at).desc()).limit(limit)).all()]


def put(engine: Engine, *, doc_id: str, thread_id: str, user_id: str, quote: str,
        assigned_by: str) -> None:
    """Record at once that a thread was assigned (the next index pass confirms or corrects it)."""
    with Session(engine) as session:
        if session.get(Document, doc_id) is None:
            return
        row = session.get(Assignment, (doc_id, thread_id[:64]))
        if row is None:
            row = Assignment(doc_id=doc_id, thread_id=thread_id[:64], user_id=user_id[:64])
        row.user_id, row.quote, row.assigned_by = user_id[:64], quote[:500], assigned_by[:100]
        session.add(row)
        session.commit()


def drop(engine: Engine, *, doc_id: str, thread_ids: Sequence[str]) -> None:
    """Threads resolved (or unassigned): no longer anyone's to do."""
    with Session(engine) as session:
        session.connection().execute(delete(Assignment).where(
            col(Assignment.doc_id) == doc_id, col(Assignment.thread_id).in_(list(thread_ids))))
        session.commit()
