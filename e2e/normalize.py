"""Compare the browser's Tiptap JSON with the server's ProseMirror-like JSON.

Both describe the same tree, but Tiptap lists every attribute (null defaults included) while the
server only has the attributes stored in the Yjs XML (numbers from JS arrive as floats). This
drops null attributes, turns integral floats into ints, sorts marks and merges adjacent text runs
with the same marks, so equal documents compare equal.
"""

from __future__ import annotations

from typing import Any


def _value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _value(v) for k, v in sorted(value.items()) if v is not None}
    if isinstance(value, list):
        return [_value(v) for v in value]
    return value


def _marks(marks: list[dict] | None) -> list[dict]:
    out = []
    for mark in marks or []:
        entry: dict[str, Any] = {"type": mark["type"]}
        attrs = _value(mark.get("attrs") or {})
        if attrs:
            entry["attrs"] = attrs
        out.append(entry)
    return sorted(out, key=lambda m: m["type"])


def normalize(node: dict) -> dict:
    out: dict[str, Any] = {"type": node["type"]}
    attrs = _value(node.get("attrs") or {})
    if attrs:
        out["attrs"] = attrs
    if node["type"] == "text":
        out["text"] = node.get("text", "")
        marks = _marks(node.get("marks"))
        if marks:
            out["marks"] = marks
        return out
    children: list[dict] = []
    for child in node.get("content") or []:
        child = normalize(child)
        if child["type"] == "text":
            if not child["text"]:
                continue
            last = children[-1] if children else None
            if last and last["type"] == "text" and last.get("marks") == child.get("marks"):
                last["text"] += child["text"]
                continue
        children.append(child)
    if children:
        out["content"] = children
    return out


def strip_trailing_empty_paragraphs(doc: dict) -> dict:
    """A fresh editor shows one empty paragraph that the shared document may not contain."""
    content = list(doc.get("content") or [])
    while content and content[-1] == {"type": "paragraph"}:
        content.pop()
    return {**doc, "content": content} if content else {"type": doc["type"]}


def same_document(browser_json: dict, server_json: dict) -> bool:
    return strip_trailing_empty_paragraphs(normalize(browser_json)) == \
        strip_trailing_empty_paragraphs(normalize(server_json))
