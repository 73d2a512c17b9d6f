"""Images in the document's text: Tiptap's Image node, an element ``<image src alt title
width height>`` in the fragment (inline in a paragraph or heading). Images Quire stores are
named by URL ``/api/docs/<doc id>/images/<sha256>``; others are links to elsewhere."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment

from crdt.plain_text import FRAGMENT

STORED = re.compile(r"/api/docs/([A-Za-z0-9_-]{1,64})/images/([0-9a-f]{64})")


def stored_image(src: object) -> tuple[str, str] | None:
    """(doc id, sha256) when `src` names an image Quire stores (absolute or not), else None."""
    if not isinstance(src, str) or len(src) > 2000:
        return None
    match = STORED.search(src)
    if match is None or not (src.startswith("/") or src.startswith("http")):
        return None
    return match.group(1), match.group(2)


def _images(doc: Doc[Any]) -> Iterator[XmlElement]:
    stack: list[XmlFragment | XmlElement] = [doc.get(FRAGMENT, type=XmlFragment)]
    while stack:
        node = stack.pop()
        children = [c for c in node.children if isinstance(c, XmlElement)]
        for child in children:
            if child.tag == "image":
                yield child
        stack.extend(reversed([c for c in children if c.tag != "image"]))


def image_sources(doc: Doc[Any]) -> list[str]:
    """Every image's `src`, in document order (iterative)."""
    with doc.transaction():
        return [str(image.attributes.get("src") or "") for image in _images(doc)]


def rewrite_sources(doc: Doc[Any], rewrite: Callable[[str], str | None]) -> int:
    """Set each image's `src` to `rewrite(src)` where that is not None; how many changed."""
    changed = 0
    with doc.transaction():
        for image in list(_images(doc)):
            src = str(image.attributes.get("src") or "")
            new = rewrite(src)
            if new is not None and new != src:
                image.attributes["src"] = new
                changed += 1
    return changed
