"""Uploaded images, cleaned before anything stores or serves them (Pillow).

The type is what the bytes are, never what the client said: only PNG, JPEG, GIF and WebP are
opened (no SVG, which can carry script). Pixels are bounded before anything is decoded (the
header gives the size), so a small file that claims 100,000 x 100,000 pixels is refused without
allocating them. Every image is decoded and written again, which drops its metadata (EXIF with
GPS position and camera serial, XMP, comments, text chunks, ICC profiles) and anything hidden
after the picture; photos are turned upright by their EXIF orientation first, and pictures
wider or taller than `MAX_SIDE` are scaled down (JPEG decodes at reduced size for that).

`clean_image` is a plain function on bytes: the routes run it on the CpuPool.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from crdt.budget import Deadline

FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
MAX_SIDE = 4096  # pixels: larger pictures are scaled down to this
MAX_FRAMES = 300  # of an animation
# what an animated GIF/WebP needs to play as before; everything else in `info` is dropped
_ANIMATION_KEYS = ("duration", "loop", "transparency", "background", "disposal")


class ImageRefused(ValueError):
    """Bytes that are not an image Quire accepts; `status` is the HTTP answer (413 or 415)."""

    def __init__(self, message: str, status: int = 415) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class CleanImage:
    data: bytes
    mime: str
    width: int
    height: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.mime]


def clean_image(raw: bytes, *, max_pixels: int, deadline: Deadline | None = None) -> CleanImage:
    """`raw` decoded and written again without metadata; `ImageRefused` if it is not a PNG,
    JPEG, GIF or WebP, is damaged, or has more than `max_pixels` pixels (per frame, and
    `max_pixels` x 4 over all frames of an animation)."""
    try:
        with Image.open(io.BytesIO(raw), formats=list(FORMATS)) as img:
            fmt = img.format or ""
            width, height = img.size
            frames = getattr(img, "n_frames", 1)
            if width < 1 or height < 1:
                raise ImageRefused("the image has no pixels")
            if width * height > max_pixels:
                raise ImageRefused(f"the image has {width} x {height} pixels; the limit is "
                                   f"{max_pixels:,} pixels", 413)
            if frames > MAX_FRAMES or width * height * frames > max_pixels * 4:
                raise ImageRefused(f"the animation has {frames} frames of {width} x {height} "
                                   "pixels: too many to accept", 413)
            if deadline is not None:
                deadline.check()
            out = io.BytesIO()
            if frames > 1:
                _save_animation(img, fmt, out)
            else:
                _save_still(img, fmt, out)
            if deadline is not None:
                deadline.check()
    except ImageRefused:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError) as exc:
        raise ImageRefused("the file is not a PNG, JPEG, GIF or WebP image") from exc
    except (OSError, ValueError, SyntaxError, EOFError, IndexError, TypeError) as exc:
        # Pillow's answer to truncated or damaged data
        raise ImageRefused(f"the image could not be read ({type(exc).__name__})") from exc
    data = out.getvalue()
    with Image.open(io.BytesIO(data)) as written:
        width, height = written.size
    return CleanImage(data=data, mime=FORMATS[fmt], width=width, height=height)


def _save_still(img: Image.Image, fmt: str, out: io.BytesIO) -> None:
    if fmt == "JPEG" and max(img.size) > MAX_SIDE:
        img.draft(img.mode, (MAX_SIDE, MAX_SIDE))  # decode at 1/2, 1/4 or 1/8 the size
    img.load()
    upright = ImageOps.exif_transpose(img)  # a copy without the orientation tag, or None
    picture = upright if upright is not None else img
    if max(picture.size) > MAX_SIDE:
        picture = picture.copy()
        picture.thumbnail((MAX_SIDE, MAX_SIDE))
    picture.info = {k: v for k, v in picture.info.items() if k == "transparency"}
    if fmt == "JPEG":
        if picture.mode not in ("RGB", "L", "CMYK"):
            picture = picture.convert("RGB")
        picture.save(out, "JPEG", quality=90)
    elif fmt == "PNG":
        picture.save(out, "PNG")
    elif fmt == "GIF":
        picture.save(out, "GIF")
    else:
        picture.save(out, "WEBP", quality=90)


def _save_animation(img: Image.Image, fmt: str, out: io.BytesIO) -> None:
    if max(img.size) > MAX_SIDE:
        raise ImageRefused(f"animations are limited to {MAX_SIDE} pixels a side", 413)
    keep: dict[str | tuple[int, int], Any] = {k: img.info[k] for k in _ANIMATION_KEYS
                                              if k in img.info}
    img.info = dict(keep)
    img.save(out, fmt, save_all=True, **({"quality": 90} if fmt == "WEBP" else {}))
