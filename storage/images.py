"""Images: content-addressed blobs (one row per distinct picture) and the documents that may
show them. The bytes arrive here already cleaned (server/images.py). Blocking functions: run
them off the event loop."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from storage.models import Blob, Document, DocumentImage


class TooManyImages(Exception):
    """The document already holds the most images allowed."""


@dataclass(frozen=True)
class StoredImage:
    sha256: str
    mime: str
    width: int
    height: int
    size: int


def add(engine: Engine, *, doc_id: str, sha256: str, mime: str, width: int, height: int,
        data: bytes, created_by: str | None, max_per_document: int) -> StoredImage | None:
    """Store the blob (once) and let `doc_id` show it. None when the document is gone;
    `TooManyImages` past `max_per_document` distinct images."""
    for attempt in range(2):  # another process may store the same blob at the same moment
        try:
            with Session(engine) as session:
                if session.get(Document, doc_id) is None:
                    return None
                if session.get(DocumentImage, (doc_id, sha256)) is None:
                    count = session.exec(select(func.count()).select_from(DocumentImage)
                                         .where(DocumentImage.doc_id == doc_id)).one()
                    if count >= max_per_document:
                        raise TooManyImages
                    if session.get(Blob, sha256) is None:
                        session.add(Blob(sha256=sha256, mime=mime, size=len(data), width=width,
                                         height=height, data=data))
                        session.flush()
                    session.add(DocumentImage(doc_id=doc_id, sha256=sha256,
                                              created_by=created_by))
                session.commit()
                return StoredImage(sha256, mime, width, height, len(data))
        except IntegrityError:
            if attempt:
                raise
    return None


def get(engine: Engine, *, doc_id: str, sha256: str) -> Blob | None:
    """The blob, if `doc_id` may show it."""
    with Session(engine) as session:
        return session.exec(
            select(Blob).join(DocumentImage, col(DocumentImage.sha256) == col(Blob.sha256))
            .where(DocumentImage.doc_id == doc_id, Blob.sha256 == sha256)).first()


def blobs_of(engine: Engine, *, doc_id: str, wanted: set[str]) -> list[Blob]:
    """The blobs among `wanted` (SHA-256 names) that `doc_id` may show."""
    if not wanted:
        return []
    with Session(engine) as session:
        return list(session.exec(
            select(Blob).join(DocumentImage, col(DocumentImage.sha256) == col(Blob.sha256))
            .where(DocumentImage.doc_id == doc_id, col(Blob.sha256).in_(sorted(wanted)))).all())


def count(engine: Engine, *, doc_id: str) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(DocumentImage)
                            .where(DocumentImage.doc_id == doc_id)).one()
