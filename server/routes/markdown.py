"""REST: export a document as Markdown, import Markdown as a new document."""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status

from server.access import CanView, UserDep
from server.deps import EngineDep, RoomsDep, SettingsDep
from server.markdown_io import (
    ImportError_,
    authors_of,
    create_from_markdown,
    decode_markdown,
    render,
    slugify,
    title_from,
)
from server.routes.documents import DocumentPublic, public

router = APIRouter(prefix="/api/docs", tags=["markdown"])


@router.get("/{doc_id}/export.md", response_class=Response,
            responses={200: {"content": {"text/markdown": {}}}})
async def export_document(
    doc_id: str,
    access: CanView,
    engine: EngineDep,
    rooms: RoomsDep,
    comments: Literal["none", "footnotes"] = "none",
    frontmatter: bool = Query(default=False),
):
    """GitHub-flavoured Markdown of the current state (live if open, else from storage)."""
    record = access.doc
    room = await rooms.with_room(doc_id)
    authors = await asyncio.to_thread(authors_of, engine, doc_id) if frontmatter else []
    text = render(room.doc, record, footnotes=comments == "footnotes",
                  frontmatter=frontmatter, authors=authors)
    filename = slugify(record.title) + ".md"
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def import_document(request: Request, engine: EngineDep, rooms: RoomsDep,
                          settings: SettingsDep, user: UserDep, title: str | None = Query(default=None,
                                                                          max_length=500)):
    """Create a document from Markdown: a multipart upload (field `file`) or the raw body."""
    limit = settings.max_import_bytes
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + 64 * 1024:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"Markdown imports are limited to {limit} bytes")
    content_type = request.headers.get("content-type", "")
    filename = "Imported document"
    if content_type.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=4)
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
        raw = b""
        async for chunk in request.stream():
            raw += chunk
            if len(raw) > limit:
                break
    try:
        text = decode_markdown(raw, limit=limit)
    except ImportError_ as exc:
        code = (status.HTTP_413_CONTENT_TOO_LARGE if len(raw) > limit
                else status.HTTP_422_UNPROCESSABLE_CONTENT)
        raise HTTPException(code, str(exc)) from exc
    record = await asyncio.to_thread(create_from_markdown, engine, text,
                                     title=title or title_from(text, filename),
                                     owner_id=user.id if user else None)
    return public(record, rooms)
