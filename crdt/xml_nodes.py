"""Typed views of pycrdt's XML nodes.

pycrdt 0.14 annotates a node's `children` as yielding fragments too (a fragment is only ever a
root, never a child) and `XmlAttributesView.__iter__` as returning an Iterable rather than an
Iterator, so the type checker accepts neither `dict(node.attributes)` nor a child as a node.
These say what the documents hold.
"""

from __future__ import annotations

from typing import Any

from pycrdt import XmlElement, XmlFragment, XmlText

Node = XmlElement | XmlText
Parent = XmlFragment | XmlElement


def children(parent: Parent) -> list[Node]:
    """The child nodes of `parent`, in order."""
    return [child for child in parent.children if not isinstance(child, XmlFragment)]


def attributes(node: Node) -> dict[str, Any]:
    """The attributes of `node`, as a new dict."""
    return dict(node.attributes.__iter__())
