"""Where comment threads are anchored: y-tiptap's keys for the ``comment`` mark, and the runs of
plain text (`crdt.plain_text`) that carry it.

See crdt/COMMENTS.md ("Anchoring"). Used by crdt/comments.py, which re-exports the public names.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Any

from pycrdt import XmlText, write_var_uint

from crdt.plain_text import FRAGMENT as FRAGMENT  # where the text lives
from crdt.plain_text import Run as _Run

__all__ = ["MARK", "mark_key"]

MARK = "comment"
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


# ---------------------------------------------------------------------------- marked runs


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
