"""A document's plain text: every text block on its own line, hard breaks as newlines.

One walk over ``XmlFragment "default"``, for everything that reads the text as a person would
(comment anchors and quotes, search, the REST content view, tests); `walk` also says where each
chunk lives, so a passage found in the text can be marked in the document. The same text is
made from editor JSON by `crdt.markdown.json_text` (version views).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

FRAGMENT = "default"
TEXTBLOCKS = frozenset({"paragraph", "heading", "codeBlock", "detailsSummary"})  # hold inline text


@dataclass(slots=True)
class Run:
    """A chunk of document text: where it is in the plain text and in its XmlText."""

    start: int  # offset in the plain text (code points)
    text: str
    node: XmlText | None  # None for a hard break (not markable)
    index: int  # offset inside `node` in pycrdt units (UTF-8 bytes)
    attrs: dict[str, Any]
    path: tuple[int, ...] = ()  # child indexes from the fragment down to `node` (as events say)


def walk(doc: Doc[Any]) -> tuple[str, list[Run]]:
    """The document's plain text, and where each chunk of it lives."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    Chunk = tuple[XmlText | None, int, str, dict[str, Any], tuple[int, ...]]
    lines: list[list[Chunk]] = []
    stack: list[tuple[XmlFragment | XmlElement, tuple[int, ...]]] = [(fragment, ())]
    while stack:
        node, path = stack.pop()
        children = list(node.children)
        line: list[Chunk] = []
        for number, child in enumerate(children):
            if isinstance(child, XmlText):
                index = 0
                for chunk, attrs in child.diff():
                    if isinstance(chunk, str):
                        if chunk:
                            line.append((child, index, chunk, dict(attrs or {}), (*path, number)))
                        index += len(chunk.encode("utf-8"))
                    else:
                        index += 1  # an embed
            elif isinstance(child, XmlElement) and child.tag == "hardBreak":
                line.append((None, 0, "\n", {}, ()))
        if line or (isinstance(node, XmlElement) and node.tag in TEXTBLOCKS):
            lines.append(line)
        else:
            stack.extend(reversed([(c, (*path, number)) for number, c in enumerate(children)
                                   if isinstance(c, XmlElement)]))
    runs: list[Run] = []
    parts: list[str] = []
    offset = 0
    for number, line in enumerate(lines):
        if number:
            parts.append("\n")
            offset += 1
        for text, index, chunk, attrs, where in line:
            runs.append(Run(offset, chunk, text, index, attrs, where))
            parts.append(chunk)
            offset += len(chunk)
    return "".join(parts), runs


def document_text(doc: Doc[Any]) -> str:
    """The plain text that comment offsets and quotes refer to, one line per text block."""
    return walk(doc)[0]
