"""Images and Markdown + images archives under attack, against a real `quire serve` with the
/healthz probe (issue 18, item 9).

| attack                                                       | answer                        |
|--------------------------------------------------------------|-------------------------------|
| SVG with script, HTML, a PDF, text, empty, a truncated PNG    | 415 (422 empty), nothing kept |
| a PNG header claiming 100,000 x 100,000 pixels (a "bomb")     | 413 before any pixel decodes  |
| an animated GIF of 400 frames                                 | 413                           |
| 11 MB declared, or streamed without a length                  | 413, connection closed        |
| a viewer or commenter uploading                               | 403                           |
| 24 uploads at once by one editor                              | 201 or 503 (busy), never hung |
| a .zip whose linked image inflates to 200 MB (zip bomb)       | 413 after reading the limit   |
| a .zip of 3,000 entries; no .md; damaged; a 6 MB .md inside    | 422 / 422 / 422 / 413         |
| a .zip linking ../../../etc/passwd and absolute paths         | imported, those links kept as text, nothing read outside |

Throughout, /healthz answers within a second, and the attacked document reads as before.
"""

from __future__ import annotations

import asyncio
import io
import struct
import zipfile
import zlib

import httpx
import pytest
from PIL import Image


def png(width: int = 600, height: int = 400, seed: int = 0) -> bytes:
    out = io.BytesIO()
    Image.effect_noise((width, height), 40 + seed).save(out, "PNG")
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG header for a huge picture, with almost no data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


NOT_IMAGES = {
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)'
           b"</script></svg>",
    "html": b"<!doctype html><script>alert(document.cookie)</script>",
    "pdf": b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
    "text": b"Plain words, not a picture.",
    "truncated-png": png(64, 64)[:200],
    "png-signature-then-garbage": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
}


async def images_of(quire, doc_id: str) -> int:
    """How many images the document holds, read through an export bundle."""
    async with quire.client("owner") as client:
        r = await client.get(f"/api/docs/{doc_id}/export.zip")
        r.raise_for_status()
    return sum(name.startswith("images/") for name in zipfile.ZipFile(io.BytesIO(r.content))
               .namelist())


@pytest.mark.parametrize("kind", sorted(NOT_IMAGES))
async def test_what_is_not_a_picture_is_refused(quire, kind):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    async with quire.probe(), quire.client("editor") as editor:
        r = await editor.post(f"/api/docs/{doc}/images",
                              files={"file": ("photo.png", NOT_IMAGES[kind], "image/png")})
    assert r.status_code == 415, r.text
    assert "Not accepted" in r.json()["detail"]
    assert await quire.owner_view(doc) == before


async def test_an_empty_upload_and_a_form_without_the_file_are_refused(quire):
    doc = await quire.new_doc()
    async with quire.probe(), quire.client("editor") as editor:
        r = await editor.post(f"/api/docs/{doc}/images", content=b"",
                              headers={"content-type": "image/png"})
        assert r.status_code == 422
        r = await editor.post(f"/api/docs/{doc}/images", files={"other": ("x", b"123")})
        assert r.status_code == 422


async def test_a_decompression_bomb_is_refused_before_decoding(quire):
    doc = await quire.new_doc()
    rss_before = quire.rss_kib()
    async with quire.probe(), quire.client("editor") as editor:
        for width, height in ((100_000, 100_000), (50_000, 1), (1, 2**31 - 1)):
            r = await editor.post(f"/api/docs/{doc}/images",
                                  files={"file": ("bomb.png", png_claiming(width, height))})
            assert r.status_code in (413, 415), r.text
    assert quire.rss_kib() - rss_before < 200 * 1024  # nothing near 30 GB was allocated
    assert await images_of(quire, doc) == 0


async def test_a_long_animation_is_refused(quire):
    doc = await quire.new_doc()
    frames = [Image.new("RGB", (8, 8), (i % 256, i // 256, 0)) for i in range(400)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=10)
    async with quire.probe(), quire.client("editor") as editor:
        r = await editor.post(f"/api/docs/{doc}/images", files={"file": ("a.gif", out.getvalue())})
    assert r.status_code == 413, r.text


async def test_oversized_uploads_are_cut_off(quire):
    doc = await quire.new_doc()

    async def endless():
        for _ in range(40):
            yield b"\0" * (512 * 1024)  # 20 MB, with no length announced

    async with quire.probe(), quire.client("editor") as editor:
        for body in (b"\0" * (11 * 1024 * 1024), endless()):
            try:
                r = await editor.post(f"/api/docs/{doc}/images", content=body,
                                      headers={"content-type": "image/png"})
                assert r.status_code == 413
            except httpx.HTTPError:
                pass  # the server answered 413 and closed the connection mid-upload
        # and the next upload on a fresh connection works
        r = await editor.post(f"/api/docs/{doc}/images", files={"file": ("ok.png", png(8, 8))})
        assert r.status_code == 201


async def test_only_editors_and_the_owner_upload(quire):
    doc = await quire.new_doc()
    async with quire.probe():
        for role, expected in (("viewer", 403), ("commenter", 403), (None, 401),
                               ("editor", 201)):
            async with quire.client(role) as client:
                r = await client.post(f"/api/docs/{doc}/images",
                                      files={"file": ("p.png", png(8, 8, seed=len(role or "")))})
            assert r.status_code == expected or (role is None and r.status_code == 404), (role, r)


async def test_a_flood_of_uploads_keeps_the_server_responsive(quire):
    doc = await quire.new_doc()
    pictures = [png(1200, 900, seed=i) for i in range(24)]
    async with quire.probe(), quire.client("editor", timeout=60) as editor:
        answers = await asyncio.gather(*(
            editor.post(f"/api/docs/{doc}/images", files={"file": (f"{i}.png", data)})
            for i, data in enumerate(pictures)))
    assert {a.status_code for a in answers} <= {201, 503}
    assert any(a.status_code == 201 for a in answers)


def zip_of(entries: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=method) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


async def import_zip(quire, data: bytes) -> httpx.Response:
    async with quire.client("owner", timeout=30) as owner:
        return await owner.post("/api/docs/import",
                                files={"file": ("bundle.zip", data, "application/zip")})


async def test_a_zip_bomb_stops_at_the_limit(quire):
    bomb = zip_of({"paper.md": b"# Paper\n\n![x](images/x.png)\n",
                   "images/x.png": b"\0" * (200 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    async with quire.probe():
        r = await import_zip(quire, bomb)
    assert r.status_code == 413, r.text


@pytest.mark.parametrize(("name", "entries", "status"), [
    ("too many entries", {f"f{i}.txt": b"" for i in range(3000)}, 422),
    ("no markdown", {"images/a.png": b"x"}, 422),
    ("markdown past the import limit", {"big.md": b"word " * (1300 * 1024)}, 413),
])
async def test_bad_archives_are_refused(quire, name, entries, status):
    async with quire.probe():
        r = await import_zip(quire, zip_of(entries))
    assert r.status_code == status, (name, r.text)


async def test_a_damaged_archive_is_refused(quire):
    good = zip_of({"paper.md": b"# Paper\n\n" + b"text " * 2000})
    damaged = good[:40] + bytes(200) + good[240:]
    async with quire.probe():
        for data in (damaged, b"PK\x03\x04" + b"\xff" * 500, good[: len(good) // 2]):
            r = await import_zip(quire, data)
            assert r.status_code == 422, r.text


async def test_links_out_of_the_archive_are_never_followed(quire):
    data = zip_of({"docs/paper.md": b"# Paper\n\n![p](../../../etc/passwd) "
                   b"![q](/etc/hostname) ![r](file:///etc/passwd) ![s](images/s.png)\n",
                   "docs/images/s.png": png(10, 10)})
    async with quire.probe():
        r = await import_zip(quire, data)
    assert r.status_code == 201, r.text
    doc = r.json()["id"]
    async with quire.client("owner") as owner:
        md = (await owner.get(f"/api/docs/{doc}/export.md")).text
    assert "../../../etc/passwd" in md and "/etc/hostname" in md
    assert "root:" not in md
    assert await images_of(quire, doc) == 1
