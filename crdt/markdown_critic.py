"""Suggestions in Markdown as CriticMarkup: ``{++added++}``, ``{--removed--}`` and
``{~~old~>new~~}``.

Export (`critic_blocks`) wraps the runs that carry a suggestion mark in those markers (the
exporter writes markers as they are, the text between them escaped as usual). Import
(`critic_marks`) reads the markers in a paragraph's text back into suggestion marks; a marker
that is never closed stays text. Both are linear in the text.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from crdt.suggestions import DELETE, INSERT

Node = dict[str, Any]
RAW = "criticMarker"  # an inline node the exporter writes verbatim
_OPENERS = ("{++", "{--", "{~~")


def _suggestion_of(node: Node) -> tuple[str, str] | None:
    for mark in node.get("marks") or []:
        if mark.get("type") in (INSERT, DELETE):
            sid = (mark.get("attrs") or {}).get("id")
            return mark["type"], str(sid)
    return None


def critic_blocks(blocks: list[Node]) -> list[Node]:
    """A copy of `blocks` whose suggested runs are wrapped in CriticMarkup markers."""
    return _map_inline(blocks, _wrap_inline)


def _map_inline(blocks: list[Node], change: Callable[[list[Node]], list[Node]]) -> list[Node]:
    """A copy of `blocks` with `change` applied to every inline content list (iterative: a
    document may nest a thousand levels deep)."""
    root: Node = {"content": blocks}
    out_root: Node = {}
    stack: list[tuple[Node, Node]] = [(root, out_root)]
    while stack:
        node, copy = stack.pop()
        content = node.get("content")
        if not isinstance(content, list):
            continue
        if any(child.get("type") == "text" for child in content):
            copy["content"] = change(content)
            continue
        children: list[Node] = []
        for child in content:
            twin = {k: v for k, v in child.items() if k != "content"}
            if "content" in child:
                stack.append((child, twin))
            children.append(twin)
        copy["content"] = children
    result: list[Node] = out_root.get("content", [])
    return result


def _has_suggestions(blocks: list[Node]) -> bool:
    stack = list(blocks)
    while stack:
        node = stack.pop()
        if node.get("type") == "text" and _suggestion_of(node) is not None:
            return True
        stack.extend(node.get("content") or [])
    return False


def _raw(text: str) -> Node:
    return {"type": RAW, "text": text}


def _strip(node: Node) -> Node:
    marks = [m for m in node.get("marks") or [] if m.get("type") not in (INSERT, DELETE)]
    plain = {k: v for k, v in node.items() if k != "marks"}
    if marks:
        plain["marks"] = marks
    return plain


def _wrap_inline(content: list[Node]) -> list[Node]:
    groups: list[tuple[tuple[str, str] | None, list[Node]]] = []
    for node in content:
        label = _suggestion_of(node) if node.get("type") == "text" else None
        if groups and groups[-1][0] == label and label is not None:
            groups[-1][1].append(_strip(node))
        else:
            groups.append((label, [_strip(node) if label is not None else node]))
    out: list[Node] = []
    i = 0
    while i < len(groups):
        label, nodes = groups[i]
        if label is None:
            out.extend(nodes)
        elif (label[0] == DELETE and i + 1 < len(groups)
              and groups[i + 1][0] == (INSERT, label[1])):
            out += [_raw("{~~"), *nodes, _raw("~>"), *groups[i + 1][1], _raw("~~}")]
            i += 1
        elif label[0] == INSERT:
            out += [_raw("{++"), *nodes, _raw("++}")]
        else:
            out += [_raw("{--"), *nodes, _raw("--}")]
        i += 1
    return out


# ---- import ----------------------------------------------------------------------------------


def _spans(text: str) -> list[tuple[int, int | None, int, str]]:
    """(start, middle, end, opener) of each closed marker, left to right, linear."""
    spans: list[tuple[int, int | None, int, str]] = []
    missing: set[str] = set()
    pos = 0
    while True:
        found = [(text.find(o, pos), o) for o in _OPENERS if o not in missing]
        found = [(i, o) for i, o in found if i >= 0]
        if not found:
            return spans
        start, opener = min(found)
        middle: int | None = None
        if opener == "{~~":
            middle = text.find("~>", start + 3)
            end = text.find("~~}", middle + 2) if middle >= 0 else -1
        else:
            end = text.find("++}" if opener == "{++" else "--}", start + 3)
        if end < 0:
            missing.add(opener)  # never closed from here on: the rest stays text
            pos = start + 1
            continue
        spans.append((start, middle, end, opener))
        pos = end + 3


def critic_marks(nodes: list[Node], *, author: str | None = None) -> list[Node]:
    """`nodes` (a paragraph's inline nodes) with CriticMarkup read into suggestion marks."""
    text_nodes = [n for n in nodes if n.get("type") == "text"]
    joined = "".join(n["text"] for n in text_nodes)
    if "{" not in joined:
        return nodes
    spans = _spans(joined)
    if not spans:
        return nodes
    at = int(time.time() * 1000)
    # per character of `joined`: None (as is), "drop" (a marker), or (kind, id)
    labels: list[Any] = [None] * len(joined)
    for start, middle, end, opener in spans:
        sid = "imported-" + uuid.uuid4().hex[:12]
        for k in range(start, start + 3):
            labels[k] = "drop"
        for k in range(end, end + 3):
            labels[k] = "drop"
        if opener == "{~~" and middle is not None:
            for k in range(start + 3, middle):
                labels[k] = (DELETE, sid)
            labels[middle] = labels[middle + 1] = "drop"
            for k in range(middle + 2, end):
                labels[k] = (INSERT, sid)
        else:
            kind = INSERT if opener == "{++" else DELETE
            for k in range(start + 3, end):
                labels[k] = (kind, sid)
    out: list[Node] = []
    offset = 0
    for node in nodes:
        if node.get("type") != "text":
            out.append(node)
            continue
        text = node["text"]
        piece: list[str] = []
        label: Any = None
        for ch, this in zip(text, labels[offset:offset + len(text)], strict=True):
            if this == "drop":
                continue
            if this != label and piece:
                out.append(_piece(node, "".join(piece), label, author, at))
                piece = []
            label = this
            piece.append(ch)
        if piece:
            out.append(_piece(node, "".join(piece), label, author, at))
        offset += len(text)
    return out


def _piece(node: Node, text: str, label: Any, author: str | None, at: int) -> Node:
    piece = {**node, "text": text}
    if label is not None:
        kind, sid = label
        marks = [m for m in node.get("marks") or []]
        marks.append({"type": kind, "attrs": {"id": sid, "author": author, "at": at}})
        piece["marks"] = marks
    return piece


def suggestions_view(blocks: list[Node], mode: str) -> list[Node]:
    """The blocks with pending suggestions rejected ("reject": the text as it stands),
    accepted ("accept"), or marked up ("critic")."""
    if not _has_suggestions(blocks):
        return blocks
    if mode == "critic":
        return critic_blocks(blocks)
    gone, kept = (INSERT, DELETE) if mode == "reject" else (DELETE, INSERT)

    def decide(content: list[Node]) -> list[Node]:
        nodes: list[Node] = []
        for node in content:
            if node.get("type") == "text":
                marks = node.get("marks") or []
                if any(m.get("type") == gone for m in marks):
                    continue
                if any(m.get("type") == kept for m in marks):
                    node = _strip(node)
            nodes.append(node)
        return nodes

    return _map_inline(blocks, decide)
