"""Images over REST (issue 18, item 9): upload, cleaning, who is served them, and the Markdown
exports and imports that carry them (`.md` links them, `.zip` bundles them)."""

from __future__ import annotations

import io
import zipfile

from PIL import Image, PngImagePlugin
from pycrdt import Doc, XmlFragment

from crdt.images import image_sources
from server.images import MAX_SIDE
from storage import images as store_images
from tests.support.yclient import YClient, eventually


def png(width: int = 40, height: int = 30, color=(200, 40, 40), text: dict | None = None) -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    for key, value in (text or {}).items():
        info.add_text(key, value)
    Image.new("RGB", (width, height), color).save(out, "PNG", pnginfo=info)
    return out.getvalue()


def jpeg_with_gps_rotated() -> bytes:
    """A 60x20 photo whose EXIF says "rotate 90°" (orientation 6) and carries a GPS position."""
    img = Image.new("RGB", (60, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: the camera was turned
    exif[0x010F] = "SpyCam"  # make
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.0)}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


async def upload(http, doc_id: str, data: bytes, name: str = "picture.png"):
    return await http.post(f"/api/docs/{doc_id}/images",
                           files={"file": (name, data, "application/octet-stream")})


async def test_an_editor_uploads_and_readers_are_served_the_cleaned_image(server):
    doc_id = await server.new_doc("Figures")
    async with server.client() as http:
        r = await upload(http, doc_id, png(text={"Author": "Secret Person"}))
        assert r.status_code == 201, r.text
        body = r.json()
        assert body["url"] == f"/api/docs/{doc_id}/images/{body['sha256']}"
        assert (body["mime"], body["width"], body["height"]) == ("image/png", 40, 30)
        served = await http.get(body["url"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in served.headers["content-security-policy"]
    assert served.headers["cache-control"].startswith("private")
    with Image.open(io.BytesIO(served.content)) as img:
        assert img.size == (40, 30)
        assert "Author" not in img.info  # the text chunk is gone
    assert b"Secret Person" not in served.content


async def test_a_photo_is_turned_upright_and_loses_its_exif(server):
    doc_id = await server.new_doc()
    async with server.client() as http:
        r = await upload(http, doc_id, jpeg_with_gps_rotated(), "photo.jpg")
        assert r.status_code == 201, r.text
        assert (r.json()["width"], r.json()["height"]) == (20, 60)  # upright
        served = (await http.get(r.json()["url"])).content
    with Image.open(io.BytesIO(served)) as img:
        assert img.format == "JPEG"
        assert dict(img.getexif()) == {}
    assert b"SpyCam" not in served


async def test_the_type_comes_from_the_bytes_and_huge_pictures_are_scaled_down(server):
    doc_id = await server.new_doc()
    big = io.BytesIO()
    Image.new("L", (MAX_SIDE * 2, 100)).save(big, "WEBP")
    async with server.client() as http:
        # a PNG sent as "photo.jpg" with a JPEG content type is still a PNG
        r = await http.post(f"/api/docs/{doc_id}/images",
                            files={"file": ("photo.jpg", png(), "image/jpeg")})
        assert r.json()["mime"] == "image/png"
        r = await upload(http, doc_id, big.getvalue(), "wide.webp")
        assert r.status_code == 201, r.text
        assert (r.json()["mime"], r.json()["width"], r.json()["height"]) == (
            "image/webp", MAX_SIDE, 50)
        # the raw body works too
        r = await http.post(f"/api/docs/{doc_id}/images", content=png(color=(1, 2, 3)),
                            headers={"content-type": "image/png"})
        assert r.status_code == 201, r.text


async def test_an_animated_gif_keeps_its_frames_and_loses_its_comment(server):
    doc_id = await server.new_doc()
    frames = [Image.new("RGB", (16, 16), (80 * i, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0,
                   comment=b"tracking-id-123")
    async with server.client() as http:
        r = await upload(http, doc_id, out.getvalue(), "spin.gif")
        assert r.status_code == 201, r.text
        served = (await http.get(r.json()["url"])).content
    with Image.open(io.BytesIO(served)) as img:
        assert img.n_frames == 3
    assert b"tracking-id-123" not in served


async def test_the_same_picture_twice_is_stored_once(server):
    doc_a = await server.new_doc("A")
    doc_b = await server.new_doc("B")
    async with server.client() as http:
        first = (await upload(http, doc_a, png())).json()
        again = (await upload(http, doc_a, png())).json()
        other = (await upload(http, doc_b, png())).json()
    assert first["sha256"] == again["sha256"] == other["sha256"]
    assert other["url"] == f"/api/docs/{doc_b}/images/{first['sha256']}"
    assert store_images.count(server.engine, doc_id=doc_a) == 1


async def test_who_may_upload_and_who_is_served(server):
    doc_id = await server.new_doc("Private")
    viewer = await server.link(doc_id, "viewer")
    commenter = await server.link(doc_id, "commenter")
    async with server.client() as owner:
        url = (await upload(owner, doc_id, png())).json()["url"]
        other_doc = await server.new_doc("Elsewhere")
    async with server.client(viewer) as http:
        assert (await http.get(url)).status_code == 200  # readers see figures
        assert (await upload(http, doc_id, png(color=(0, 0, 0)))).status_code == 403
    async with server.client(commenter) as http:
        assert (await upload(http, doc_id, png(color=(0, 0, 0)))).status_code == 403
    async with server.client(None) as anonymous:
        assert (await anonymous.get(url)).status_code in (401, 404)
    sha = url.rsplit("/", 1)[1]
    async with server.client() as owner:
        # an image of one document is not served under another, even to their owner
        assert (await owner.get(f"/api/docs/{other_doc}/images/{sha}")).status_code == 404
        for bad in ("../../etc/passwd", sha.upper(), sha[:-1], sha + "0", "%2e%2e"):
            assert (await owner.get(f"/api/docs/{doc_id}/images/{bad}")).status_code in (404, 422)


async def test_exports_link_and_bundle_images_and_a_bundle_imports_back(server):
    doc_id = await server.new_doc("Edge report")
    async with server.client() as http:
        image = (await upload(http, doc_id, png(8, 8))).json()
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    fragment = client.doc.get("default", type=XmlFragment)
    from pycrdt import XmlElement, XmlText

    para = fragment.children.append(XmlElement("paragraph"))
    para.children.append(XmlText("See "))
    para.children.append(XmlElement("image", {"src": image["url"], "alt": "The map",
                                              "title": "Figure 1: the map"}))
    para.children.append(XmlText(" here."))
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    await client.close()
    async with server.client() as http:
        md = (await http.get(f"/api/docs/{doc_id}/export.md")).text
        assert md == (f'See ![The map]({server.http}{image["url"]} "Figure 1: the map") here.\n')
        r = await http.get(f"/api/docs/{doc_id}/export.zip")
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/zip"
        archive = zipfile.ZipFile(io.BytesIO(r.content))
        path = f"images/{image['sha256'][:16]}.png"
        assert sorted(archive.namelist()) == ["edge-report.md", path]
        assert archive.read("edge-report.md").decode() == (
            f'See ![The map]({path} "Figure 1: the map") here.\n')
        served = (await http.get(image["url"])).content
        assert archive.read(path) == served
        # the bundle comes back as a new document whose image is its own
        r = await http.post("/api/docs/import",
                            files={"file": ("edge-report.zip", r.content, "application/zip")})
        assert r.status_code == 201, r.text
        copy = r.json()["id"]
        again = (await http.get(f"/api/docs/{copy}/export.md")).text
        assert again == md.replace(doc_id, copy)
        assert (await http.get(f"/api/docs/{copy}/images/{image['sha256']}")).content == served
        assert r.json()["title"] == "edge-report"


async def test_a_bundle_imports_only_the_images_its_markdown_links_inside_it(server):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("docs/paper.md", "# Paper\n\n![a](img/a.png) ![b](../../b.png) "
                         "![c](https://example.com/c.png) ![d](img/missing.png)\n")
        archive.writestr("docs/img/a.png", png(5, 5))
        archive.writestr("b.png", png(6, 6))  # outside docs/.. is outside the archive
        archive.writestr("docs/img/unlinked.png", png(7, 7))
    async with server.client() as http:
        r = await http.post("/api/docs/import", content=out.getvalue(),
                            headers={"content-type": "application/zip"})
        assert r.status_code == 201, r.text
        doc_id = r.json()["id"]
        assert r.json()["title"] == "Paper"
        state = (await http.get(f"/api/docs/{doc_id}/content")).status_code
        assert state == 200
    room = await server.rooms.with_room(doc_id)
    sources = image_sources(room.doc)
    assert sources[0].startswith(f"/api/docs/{doc_id}/images/")
    assert sources[1:] == ["../../b.png", "https://example.com/c.png", "img/missing.png"]
    assert store_images.count(server.engine, doc_id=doc_id) == 1


def test_clean_image_refuses_what_is_not_a_picture():
    import pytest

    from server.images import ImageRefused, clean_image

    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    for raw in (svg, b"<html>hi</html>", b"", png()[:60], b"\x89PNG\r\n\x1a\n" + b"\0" * 100):
        with pytest.raises(ImageRefused):
            clean_image(raw, max_pixels=10**6)
    with pytest.raises(ImageRefused) as refused:
        clean_image(png(2000, 1000), max_pixels=10**6)
    assert refused.value.status == 413


def test_image_sources_walks_nested_blocks():
    doc = Doc()
    from pycrdt import XmlElement

    fragment = doc.get("default", type=XmlFragment)
    quote = fragment.children.append(XmlElement("blockquote"))
    para = quote.children.append(XmlElement("paragraph"))
    para.children.append(XmlElement("image", {"src": "/x.png"}))
    assert image_sources(doc) == ["/x.png"]
