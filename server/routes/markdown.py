"""REST: export a document as Markdown, import Markdown as a new document.

Both conversions run on the `CpuPool` with a time budget (never on the event loop), on bytes
and text only. An import's body is read as it streams in and refused (413, connection closed)
the moment it passes the limit, multipart or raw, with or without a Content-Length.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from starlette.datastructures import FormData

from server.access import CanView, UserDep
from server.cpu import refusals
from server.deps import CpuDep, EngineDep, RoomsDep, SearchDep, SettingsDep
from server.markdown_io import (
    ImportError_,
    authors_of,
    convert_import,
    decode_markdown,
    render_state,
    slugify,
    store_import,
)
from server.routes.documents import DocumentPublic, public

router = APIRouter(prefix="/api/docs", tags=["markdown"])

# room for the multipart framing around the file (boundaries, part headers, a title field)
FORM_OVERHEAD = 64 * 1024


@router.get("/{doc_id}/export.md", response_class=Response,
            responses={200: {"content": {"text/markdown": {}}}})
async def export_document(
    doc_id: str,
    access: CanView,
    engine: EngineDep,
    rooms: RoomsDep,
    settings: SettingsDep,
    cpu: CpuDep,
    comments: Literal["none", "footnotes"] = "none",
    frontmatter: bool = Query(default=False),
):
    """GitHub-flavoured Markdown of the current state (live if open, else from storage)."""
    record = access.doc
    room = await rooms.with_room(doc_id)
    # the live Doc is read on the event loop only: the conversion gets a copy of its state
    state = room.doc.get_update()
    authors = await asyncio.to_thread(authors_of, engine, doc_id) if frontmatter else []
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        text = await cpu.run_budgeted(budget, render_state, state, record,
                                      footnotes=comments == "footnotes",
                                      frontmatter=frontmatter, authors=authors)
    filename = slugify(record.title) + ".md"
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _too_large(limit: int) -> HTTPException:
    # "Connection: close" makes uvicorn close the socket after the answer instead of reading
    # (and discarding) the rest of an upload that may be endless
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                         f"Markdown imports are limited to {limit} bytes",
                         headers={"Connection": "close"})


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, read as it streams in; 413 as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    body = bytearray()  # `bytes +=` copied the whole body per chunk
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise _too_large(limit)
    return bytes(body)


async def read_form(request: Request, body: bytes) -> FormData:
    """Parse an already read multipart `body` (python-multipart, through Starlette)."""
    sent = False

    async def replay() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return await Request(request.scope, replay).form(max_files=1, max_fields=4)


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def import_document(request: Request, engine: EngineDep, rooms: RoomsDep,
                          settings: SettingsDep, cpu: CpuDep, user: UserDep, indexer: SearchDep,
                          title: str | None = Query(default=None, max_length=500)):
    """Create a document from Markdown: a multipart upload (field `file`) or the raw body."""
    limit = settings.max_import_bytes
    content_type = request.headers.get("content-type", "")
    filename = "Imported document"
    if content_type.startswith("multipart/form-data"):
        body = await read_body(request, limit + FORM_OVERHEAD)
        form = await read_form(request, body)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                "Send the Markdown file in the form field 'file'")
        raw = await upload.read(limit + 1)
        filename = (upload.filename or filename).rsplit("/", 1)[-1].removesuffix(".md")
        form_title = form.get("title")
        if isinstance(form_title, str) and form_title.strip():
            title = form_title.strip()[:500]
    else:
        raw = await read_body(request, limit)
    try:
        text = decode_markdown(raw, limit=limit)
    except ImportError_ as exc:
        if len(raw) > limit:
            raise _too_large(limit) from exc
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        name, update = await cpu.run_budgeted(budget, convert_import, text, title=title,
                                              fallback=filename,
                                              max_nodes=settings.max_import_nodes)
    if len(update) > settings.max_document_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The document would take {len(update)} bytes; the limit is "
                            f"{settings.max_document_bytes} bytes")
    record = await asyncio.to_thread(store_import, engine, update, title=name,
                                     owner_id=user.id if user else None)
    indexer.mark(record.id)
    return public(record, rooms)
