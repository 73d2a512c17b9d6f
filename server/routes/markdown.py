"""REST: export a document as Markdown (or Markdown + images as a .zip), import Markdown (or
such a .zip) as a new document.

The conversions run on the `CpuPool` with a time budget (never on the event loop), on bytes
and text only. An import's body is read as it streams in and refused (413, connection closed)
the moment it passes the limit, multipart or raw, with or without a Content-Length.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response, status
from pycrdt import Doc

from crdt.authors import Recorded
from crdt.images import image_sources, stored_image
from server.access import CanView, UserDep
from server.cpu import refusals
from server.deps import CpuDep, EngineDep, RoomsDep, SearchDep, SettingsDep
from server.images import EXTENSIONS
from server.markdown_bundle import BundleRefused, is_zip, read_bundle, write_bundle
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
from server.routes.images import image_url
from server.uploads import PEEK, read_upload, too_large
from storage import documents as store_docs
from storage import images as store_images

router = APIRouter(prefix="/api/docs", tags=["markdown"])

Comments = Literal["none", "footnotes"]
# pending suggestions: left out (the text as it stands), accepted, or as CriticMarkup
Suggestions = Literal["reject", "accept", "critic"]


def _stored_shas(state: bytes, doc_id: str) -> set[str]:
    """The images Quire stores for `doc_id` that its text shows."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    return {found[1] for src in image_sources(doc)
            if (found := stored_image(src)) is not None and found[0] == doc_id}


async def _render(request_doc: str, access, engine, rooms, settings, cpu, *, comments: Comments,
                  frontmatter: bool, image_src, suggestions: Suggestions) -> tuple[bytes, str]:
    record = access.doc
    room = await rooms.with_room(request_doc)
    # the live Doc is read on the event loop only: the conversion gets a copy of its state
    state = room.doc.get_update()
    authors = await asyncio.to_thread(authors_of, engine, request_doc) if frontmatter else []
    budget = settings.markdown_budget_seconds
    with refusals(budget):
        text = await cpu.run_budgeted(budget, render_state, state, record,
                                      footnotes=comments == "footnotes",
                                      frontmatter=frontmatter, authors=authors,
                                      image_src=image_src, suggestions=suggestions)
    return state, text


@router.get("/{doc_id}/export.md", response_class=Response,
            responses={200: {"content": {"text/markdown": {}}}})
async def export_document(doc_id: str, request: Request, access: CanView, engine: EngineDep,
                          rooms: RoomsDep, settings: SettingsDep, cpu: CpuDep,
                          comments: Comments = "none", frontmatter: bool = Query(default=False),
                          suggestions: Suggestions = "reject"):
    """GitHub-flavoured Markdown of the current state (live if open, else from storage); the
    document's own images linked by absolute URL (they are served to people who can read it)."""
    origin = str(request.base_url).rstrip("/")

    def absolute(src: str) -> str | None:
        return origin + src if src.startswith("/api/docs/") and stored_image(src) else None

    _state, text = await _render(doc_id, access, engine, rooms, settings, cpu,
                                 comments=comments, frontmatter=frontmatter, image_src=absolute,
                                 suggestions=suggestions)
    filename = slugify(access.doc.title) + ".md"
    return Response(
        text,
        media_type="text/markdown; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/{doc_id}/export.zip", response_class=Response,
            responses={200: {"content": {"application/zip": {}}}})
async def export_bundle(doc_id: str, access: CanView, engine: EngineDep, rooms: RoomsDep,
                        settings: SettingsDep, cpu: CpuDep, comments: Comments = "none",
                        frontmatter: bool = Query(default=False),
                        suggestions: Suggestions = "reject"):
    """Markdown + images: `<title>.md` linking `images/<file>`, and those image files."""
    room = await rooms.with_room(doc_id)
    state = room.doc.get_update()
    with refusals(settings.markdown_budget_seconds):
        shas = await cpu.run(_stored_shas, state, doc_id)
    blobs = await asyncio.to_thread(store_images.blobs_of, engine, doc_id=doc_id, wanted=shas)
    total = sum(blob.size for blob in blobs)
    if total > settings.max_export_zip_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The images take {total} bytes; a .zip export is limited to "
                            f"{settings.max_export_zip_bytes} bytes")
    files = {blob.sha256: (f"images/{blob.sha256[:16]}.{EXTENSIONS.get(blob.mime, 'bin')}",
                           blob.mime, blob.data) for blob in blobs}

    def relative(src: str) -> str | None:
        found = stored_image(src)
        if found is None or found[0] != doc_id or found[1] not in files:
            return None
        return files[found[1]][0]

    _state, text = await _render(doc_id, access, engine, rooms, settings, cpu,
                                 comments=comments, frontmatter=frontmatter, image_src=relative,
                                 suggestions=suggestions)
    name = slugify(access.doc.title)
    with refusals(settings.markdown_budget_seconds):
        data = await cpu.run(write_bundle, text, name,
                             {path: (mime, raw) for path, mime, raw in files.values()})
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{name}.zip"'})


@router.post("/import", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def import_document(request: Request, engine: EngineDep, rooms: RoomsDep,
                          settings: SettingsDep, cpu: CpuDep, user: UserDep, indexer: SearchDep,
                          title: str | None = Query(default=None, max_length=500)):
    """Create a document from Markdown, or from a .zip of Markdown + images: a multipart upload
    (field `file`) or the raw body."""
    limit = settings.max_import_bytes

    declared_type = request.headers.get("content-type", "")

    def zip_limit(start: bytes) -> int | None:
        """A .zip (its magic at the start, or a part naming one) may be larger."""
        if not start:  # before reading: what the headers say (a form may hold either)
            return settings.max_import_zip_bytes if (
                "zip" in declared_type or declared_type.startswith("multipart/")
                or "octet-stream" in declared_type) else None
        head = start[:PEEK]
        if is_zip(head) or b"PK\x03\x04" in head or b".zip\"" in head or b"application/zip" in head:
            return settings.max_import_zip_bytes
        return None

    raw, filename, form = await read_upload(request, limit, "Markdown imports", wider=zip_limit)
    fallback = (filename or "Imported document").rsplit("/", 1)[-1]
    fallback = fallback.removesuffix(".md").removesuffix(".zip") or "Imported document"
    form_title = form.get("title") if form is not None else None
    if isinstance(form_title, str) and form_title.strip():
        title = form_title.strip()[:500]
    budget = settings.markdown_budget_seconds
    images = {}
    if is_zip(raw):
        with refusals(budget):
            try:
                bundle = await cpu.run_budgeted(
                    budget, read_bundle, raw, max_markdown=limit,
                    max_image=settings.max_image_bytes, max_pixels=settings.max_image_pixels,
                    max_entries=settings.max_zip_entries,
                    max_images=settings.max_images_per_document)
            except BundleRefused as exc:
                raise HTTPException(exc.status, f"Not imported: {exc}") from exc
        raw, images = bundle.markdown, bundle.images
        fallback = filename and fallback or bundle.name
    elif len(raw) > limit:
        raise too_large(limit, "Markdown imports")
    try:
        text = decode_markdown(raw, limit=limit)
    except ImportError_ as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    doc_id = store_docs.new_id()

    def stored(src: str) -> str | None:
        return image_url(doc_id, images[src].sha256) if src in images else None

    with refusals(budget):
        name, update = await cpu.run_budgeted(budget, convert_import, text, title=title,
                                              fallback=fallback,
                                              max_nodes=settings.max_import_nodes,
                                              image_src=stored if images else None,
                                              author=Recorded(user.id, user.display_name)
                                              if user else None)
    if len(update) > settings.max_document_bytes:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"The document would take {len(update)} bytes; the limit is "
                            f"{settings.max_document_bytes} bytes")
    owner = user.id if user else None

    def store():
        record = store_import(engine, update, title=name, owner_id=owner, doc_id=doc_id)
        for image in images.values():
            store_images.add(engine, doc_id=doc_id, sha256=image.sha256, mime=image.mime,
                             width=image.width, height=image.height, data=image.data,
                             created_by=owner, max_per_document=settings.max_images_per_document)
        return record

    record = await asyncio.to_thread(store)
    indexer.mark(record.id)
    return public(record, rooms)
