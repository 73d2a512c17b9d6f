"""Request bodies read as they stream in, and refused (413, connection closed) the moment they
pass a limit, with or without a Content-Length; multipart forms parsed from what was read."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import HTTPException, Request, status
from starlette.datastructures import FormData, UploadFile

# room for the multipart framing around a file (boundaries, part headers, a title field)
FORM_OVERHEAD = 64 * 1024
PEEK = 4096  # bytes of a body read before `wider` decides its limit


def too_large(limit: int, what: str = "Uploads") -> HTTPException:
    # "Connection: close" makes uvicorn close the socket after the answer instead of reading
    # (and discarding) the rest of an upload that may be endless
    return HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"{what} are limited to {limit} bytes",
                         headers={"Connection": "close"})


async def read_body(request: Request, limit: int, what: str = "Uploads", *,
                    wider: Callable[[bytes], int | None] | None = None) -> bytes:
    """The request body, read as it streams in; 413 as soon as it passes `limit` bytes.
    `wider(first bytes)` may raise the limit once the body's start shows what it is (a .zip
    has a larger one than Markdown); a declared length is only refused past the wider limit."""
    declared = request.headers.get("content-length")
    ceiling = max(limit, wider(b"") or 0) if wider is not None else limit
    if declared and declared.isdigit() and int(declared) > ceiling:
        raise too_large(limit, what)
    body = bytearray()  # `bytes +=` copied the whole body per chunk
    decided = wider is None
    async for chunk in request.stream():
        body += chunk
        if not decided and wider is not None and len(body) >= PEEK:
            decided = True
            limit = max(limit, wider(bytes(body[:PEEK])) or 0)
        if len(body) > limit:
            raise too_large(limit, what)
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


async def read_upload(request: Request, limit: int, what: str = "Uploads",
                      field: str = "file", *, wider: Callable[[bytes], int | None] | None = None,
                      ) -> tuple[bytes, str | None, FormData | None]:
    """(bytes, file name, form) of a multipart upload (the file in `field`) or of the raw body
    (no name, no form). 413 past `limit` (or what `wider` allows, see `read_body`), 422 for a
    form without the file."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return await read_body(request, limit, what, wider=wider), None, None
    body = await read_body(request, limit + FORM_OVERHEAD, what,
                           wider=(lambda start: (wider(start) or 0) + FORM_OVERHEAD)
                           if wider is not None else None)
    form = await read_form(request, body)
    upload = form.get(field)
    if not isinstance(upload, UploadFile):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            f"Send the file in the form field '{field}'")
    allowed = max(limit, wider(b"") or 0) if wider is not None else limit
    raw = await upload.read(allowed + 1)
    if len(raw) > allowed:
        raise too_large(allowed, what)
    return raw, upload.filename, form
