"""Where comment threads are anchored: y-tiptap's keys for the ``comment`` mark, and the walk
over ``XmlFragment "default"`` that finds the plain text and the marked runs in it.

See crdt/COMMENTS.md ("Anchoring"). Used by crdt/comments.py, which re-exports the public names.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText, write_var_uint

__all__ = ["MARK", "document_text", "mark_key"]

FRAGMENT = "default"
MARK = "comment"
_TEXTBLOCKS = frozenset({"paragraph", "heading", "codeBlock"})  # as crdt.markdown
_HASHED = re.compile(r"(.*)--[a-zA-Z0-9+/=]{8}")  # y-tiptap's hashedMarkNameRegex


# ---------------------------------------------------------------------------- mark keys


def _var_string(value: str) -> bytes:
    # pycrdt's Encoder.write_var_string prefixes the code-point count; lib0 (and so the
    # hash) uses the UTF-8 byte count, so non-ASCII ids need this.
    data = value.encode("utf-8")
    return write_var_uint(len(data)) + data


def _encode_any(value: Any) -> bytes:
    """lib0 ``encodeAny`` for the strings and objects of a mark's JSON."""
    # Type tags are below 128, so a var-uint is the single tag byte lib0 writes.
    if isinstance(value, str):
        return write_var_uint(119) + _var_string(value)
    if isinstance(value, Mapping):
        parts = [write_var_uint(118), write_var_uint(len(value))]
        for key, item in value.items():  # JS key order = insertion order
            parts += [_var_string(key), _encode_any(item)]
        return b"".join(parts)
    raise TypeError(f"cannot hash {type(value).__name__}")  # pragma: no cover


def mark_key(thread_id: str) -> str:
    """The XmlText attribute key y-tiptap uses for the ``comment`` mark of this thread."""
    payload = _encode_any({"type": MARK, "attrs": {"threadId": thread_id}})
    digest = bytearray(hashlib.sha256(payload).digest())
    for i in range(6, len(digest)):
        digest[i % 6] ^= digest[i]
    return f"{MARK}--{base64.b64encode(bytes(digest[:6])).decode()}"


def _thread_of(key: str, value: Any) -> str | None:
    """The thread id a formatting attribute anchors, if it is a comment mark."""
    match = _HASHED.fullmatch(key)
    name = match.group(1) if match else key
    if name != MARK or not isinstance(value, Mapping):
        return None
    thread_id = value.get("threadId")
    return thread_id if isinstance(thread_id, str) and thread_id else None


# ---------------------------------------------------------------------------- text walk


@dataclass(slots=True)
class _Run:
    """A chunk of document text: where it is in the plain text and in its XmlText."""

    start: int  # offset in the plain text (code points)
    text: str
    node: XmlText | None  # None for a hard break (not markable)
    index: int  # offset inside `node` in pycrdt units (UTF-8 bytes)
    attrs: dict[str, Any]


def _walk(doc: Doc) -> tuple[str, list[_Run]]:
    """Plain text exactly as crdt.markdown.document_text, plus where each chunk lives."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    lines: list[list[tuple[XmlText | None, int, str, dict[str, Any]]]] = []
    stack: list[XmlFragment | XmlElement] = [fragment]
    while stack:
        node = stack.pop()
        children = list(node.children)
        line: list[tuple[XmlText | None, int, str, dict[str, Any]]] = []
        for child in children:
            if isinstance(child, XmlText):
                index = 0
                for chunk, attrs in child.diff():
                    if isinstance(chunk, str):
                        if chunk:
                            line.append((child, index, chunk, dict(attrs or {})))
                        index += len(chunk.encode("utf-8"))
                    else:
                        index += 1  # an embed
            elif isinstance(child, XmlElement) and child.tag == "hardBreak":
                line.append((None, 0, "\n", {}))
        if line or (isinstance(node, XmlElement) and node.tag in _TEXTBLOCKS):
            lines.append(line)
        else:
            stack.extend(reversed([c for c in children if isinstance(c, XmlElement)]))
    runs: list[_Run] = []
    parts: list[str] = []
    offset = 0
    for number, line in enumerate(lines):
        if number:
            parts.append("\n")
            offset += 1
        for node, index, chunk, attrs in line:
            runs.append(_Run(offset, chunk, node, index, attrs))
            parts.append(chunk)
            offset += len(chunk)
    return "".join(parts), runs


def _anchors(runs: list[_Run]) -> dict[str, tuple[int, int]]:
    """thread id -> (first, last + 1) offsets of the characters carrying its mark."""
    spans: dict[str, tuple[int, int]] = {}
    for run in runs:
        for key, value in run.attrs.items():
            thread_id = _thread_of(key, value)
            if thread_id is None:
                continue
            start, end = run.start, run.start + len(run.text)
            if thread_id in spans:
                first, last = spans[thread_id]
                spans[thread_id] = (min(first, start), max(last, end))
            else:
                spans[thread_id] = (start, end)
    return spans


def _byte_offset(text: str, chars: int) -> int:
    return len(text[:chars].encode("utf-8"))


def _segments(runs: list[_Run], start: int, end: int) -> list[tuple[XmlText, int, int]]:
    """The XmlText ranges (pycrdt units) covering plain-text offsets [start, end)."""
    segments: list[tuple[XmlText, int, int]] = []
    for run in runs:
        if run.node is None:
            continue
        a, b = max(start, run.start), min(end, run.start + len(run.text))
        if a >= b:
            continue
        lo = run.index + _byte_offset(run.text, a - run.start)
        hi = run.index + _byte_offset(run.text, b - run.start)
        if segments and segments[-1][0] is run.node and segments[-1][2] == lo:
            segments[-1] = (run.node, segments[-1][1], hi)
        else:
            segments.append((run.node, lo, hi))
    return segments


def document_text(doc: Doc) -> str:
    """The plain text that comment offsets and quotes refer to (= crdt.markdown's)."""
    return _walk(doc)[0]
