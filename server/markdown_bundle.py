"""Markdown + images as one .zip: `<title>.md` beside `images/<sha256>.<ext>`.

Export: the document's Markdown with every image Quire stores for it linked as
`images/<file>`, and those files. Import: the shallowest `.md` file in the archive, and the
images it links to by a relative path inside the archive (others are left alone). An archive
is untrusted: entries are counted, every read is bounded by bytes actually inflated (never
by what the header claims, so a zip bomb stops at the limit), names never touch the disk,
and each image is cleaned like an upload (server/images.py).
"""

from __future__ import annotations

import io
import posixpath
import zipfile
from dataclasses import dataclass
from urllib.parse import unquote

from crdt.budget import Deadline
from crdt.markdown_html import img_sources
from server.images import CleanImage, ImageRefused, clean_image

ZIP_MAGIC = b"PK\x03\x04"
MARKDOWN_SUFFIXES = (".md", ".markdown")


class BundleRefused(ValueError):
    """An archive Quire does not import; `status` is the HTTP answer (413 or 422)."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Bundle:
    markdown: bytes
    name: str  # the Markdown file's name without its suffix
    images: dict[str, CleanImage]  # the path as the Markdown writes it -> the cleaned image


def is_zip(raw: bytes) -> bool:
    return raw.startswith(ZIP_MAGIC)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, what: str) -> bytes:
    """At most `limit` bytes of an entry, counted as they are inflated."""
    if info.file_size > limit:
        raise BundleRefused(f"{what} {info.filename!r} is larger than {limit} bytes", 413)
    with archive.open(info) as entry:
        data = entry.read(limit + 1)
    if len(data) > limit:
        raise BundleRefused(f"{what} {info.filename!r} is larger than {limit} bytes", 413)
    return data


def _inside(base: str, link: str) -> str | None:
    """The archive path a relative link from the Markdown file in `base` names, or None."""
    if not link or "://" in link or link.startswith(("/", "data:", "#")) or len(link) > 1000:
        return None
    path = unquote(link.split("#", 1)[0].split("?", 1)[0])
    joined = posixpath.normpath(posixpath.join(base, path))
    if joined.startswith("../") or joined == ".." or joined.startswith("/"):
        return None
    return joined


def read_bundle(raw: bytes, *, max_markdown: int, max_image: int, max_pixels: int,
                max_entries: int, max_images: int, links: list[str] | None = None,
                deadline: Deadline | None = None) -> Bundle:
    """The Markdown file of an archive and the images it links to, cleaned."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        infos = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError) as exc:
        raise BundleRefused(f"the archive could not be read ({exc})") from exc
    if len(infos) > max_entries:
        raise BundleRefused(f"the archive has {len(infos)} entries; the limit is {max_entries}")
    files = {info.filename: info for info in infos if not info.is_dir()}
    candidates = sorted(
        (name for name in files
         if name.lower().endswith(MARKDOWN_SUFFIXES) and not name.startswith("__MACOSX/")),
        key=lambda name: (name.count("/"), name.lower() != "readme.md", name))
    if not candidates:
        raise BundleRefused("the archive holds no Markdown (.md) file")
    chosen = candidates[0]
    try:
        markdown = _read(archive, files[chosen], max_markdown, "the Markdown file")
        text = markdown.decode("utf-8-sig", errors="replace")
        base = posixpath.dirname(chosen)
        wanted = links if links is not None else _image_links(text)
        images: dict[str, CleanImage] = {}
        for link in wanted:
            path = _inside(base, link)
            if link in images or path is None or path not in files:
                continue
            if len(images) >= max_images:
                raise BundleRefused(f"the archive links more than {max_images} images", 413)
            if deadline is not None:
                deadline.check()
            data = _read(archive, files[path], max_image, "the image")
            try:
                images[link] = clean_image(data, max_pixels=max_pixels, deadline=deadline)
            except ImageRefused as exc:
                raise BundleRefused(f"{path}: {exc}", exc.status) from exc
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError, EOFError) as exc:
        # a damaged entry, an unsupported compression method, an encrypted entry
        raise BundleRefused(f"the archive could not be read ({exc})") from exc
    name = posixpath.basename(chosen).rsplit(".", 1)[0] or "Imported document"
    return Bundle(markdown=markdown, name=name, images=images)


def _image_links(text: str) -> list[str]:
    """The image destinations the Markdown has (markdown-it's parse, not a regex)."""
    from markdown_it import MarkdownIt

    found: list[str] = []
    stack = list(MarkdownIt("commonmark").enable("table").parse(text))
    while stack:
        token = stack.pop()
        if token.type == "image":
            src = token.attrGet("src")
            if isinstance(src, str) and src not in found:
                found.append(src)
        if token.type == "html_inline" or token.type == "html_block":
            found.extend(img_sources(token.content))
        stack.extend(token.children or [])
    return found


def write_bundle(markdown: str, name: str, images: dict[str, tuple[str, bytes]]) -> bytes:
    """The .zip of an export: `<name>.md` and each `images/<file>` (already compressed
    pictures are stored, the text is deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(zipfile.ZipInfo(f"{name}.md", date_time=(2026, 1, 1, 0, 0, 0)),
                         markdown.encode(), compress_type=zipfile.ZIP_DEFLATED)
        for path, (_mime, data) in sorted(images.items()):
            archive.writestr(zipfile.ZipInfo(path, date_time=(2026, 1, 1, 0, 0, 0)), data,
                             compress_type=zipfile.ZIP_STORED)
    return out.getvalue()
