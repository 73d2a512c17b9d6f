"""REST: images in a document. Editors upload (multipart field `file`, or the raw bytes);
whoever can read the document is served them, and no one else (404, as for the document).

An upload is read with a byte limit as it streams in, cleaned on the CpuPool (server/images.py:
type from the bytes, pixels bounded, metadata dropped) and stored once per distinct picture
(storage/images.py). Its URL, `/api/docs/<doc>/images/<sha256>`, is what the editor's Image
node keeps as `src`.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, HTTPException, Path, Request, Response, status
from pydantic import BaseModel

from server.access import CanEdit, CanView
from server.cpu import refusals
from server.deps import CpuDep, EngineDep, SettingsDep
from server.images import EXTENSIONS, ImageRefused, clean_image
from server.uploads import read_upload
from storage import images as store_images

router = APIRouter(prefix="/api/docs", tags=["images"])

SHA256 = r"^[0-9a-f]{64}$"
IMAGE_BUDGET_SECONDS = 10.0
# the bytes never change under one name; "private": only the person who may read them keeps them
SERVED_HEADERS = {
    "Cache-Control": "private, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "Cross-Origin-Resource-Policy": "same-origin",
}


class ImagePublic(BaseModel):
    url: str
    sha256: str
    mime: str
    width: int
    height: int
    size: int


def image_url(doc_id: str, sha256: str) -> str:
    return f"/api/docs/{doc_id}/images/{sha256}"


@router.post("/{doc_id}/images", status_code=status.HTTP_201_CREATED, response_model=ImagePublic)
async def upload_image(doc_id: str, request: Request, access: CanEdit, engine: EngineDep,
                       settings: SettingsDep, cpu: CpuDep):
    """Store a PNG, JPEG, GIF or WebP for the document; its URL in the answer."""
    raw, _name, _form = await read_upload(request, settings.max_image_bytes, "Images")
    if not raw:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "The image is empty")
    with refusals(IMAGE_BUDGET_SECONDS):
        try:
            image = await cpu.run_budgeted(IMAGE_BUDGET_SECONDS, clean_image, raw,
                                           max_pixels=settings.max_image_pixels)
        except ImageRefused as exc:
            raise HTTPException(exc.status, f"Not accepted: {exc}") from exc
    try:
        stored = await asyncio.to_thread(
            store_images.add, engine, doc_id=doc_id, sha256=image.sha256, mime=image.mime,
            width=image.width, height=image.height, data=image.data,
            created_by=access.principal.account, max_per_document=settings.max_images_per_document)
    except store_images.TooManyImages as exc:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE,
                            f"A document holds at most {settings.max_images_per_document} "
                            "images") from exc
    if stored is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Document not found")
    return ImagePublic(url=image_url(doc_id, stored.sha256), sha256=stored.sha256,
                       mime=stored.mime, width=stored.width, height=stored.height,
                       size=stored.size)


@router.get("/{doc_id}/images/{sha256}", response_class=Response,
            responses={200: {"content": {"image/png": {}, "image/jpeg": {}}}})
async def get_image(doc_id: str, access: CanView, engine: EngineDep,
                    sha256: str = Path(pattern=SHA256)):
    etag = f'"{sha256}"'
    blob = await asyncio.to_thread(store_images.get, engine, doc_id=doc_id, sha256=sha256)
    if blob is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Image not found")
    filename = f"{sha256[:16]}.{EXTENSIONS.get(blob.mime, 'bin')}"
    return Response(blob.data, media_type=blob.mime, headers={
        "ETag": etag, "Content-Disposition": f'inline; filename="{filename}"', **SERVED_HEADERS})
