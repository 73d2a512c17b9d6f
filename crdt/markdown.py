"""XmlFragment("default") <-> GitHub-flavoured Markdown, plus JSON and plain-text views.

Public API (pure functions over a ``pycrdt.Doc``; no I/O):

* :func:`export_markdown` — the document as GFM (optionally with YAML front matter and
  comment threads as footnotes). See :mod:`crdt.markdown_export` for every choice made.
* :func:`import_markdown` — replace the fragment with the parse of a Markdown text, in
  the shape Tiptap 3 writes. See :mod:`crdt.markdown_import`.
* :func:`fragment_to_json` — ProseMirror-like JSON (``{"type": "doc", "content": [...]}``)
  used by the REST API and version history.
* :func:`document_text` — plain text, one line per text block.

The Yjs shape (what y-tiptap writes): one ``XmlElement`` per node named after the node
type, node attrs as XML attributes (numbers arrive from JS as floats; the JSON view casts
integral floats to ``int``), inline content as ``XmlText`` runs whose formatting
attributes are the marks (``{"bold": {}}``, ``{"link": {"href": ...}}``) interleaved with
inline elements such as ``hardBreak``. Overlapping-mark names of the form
``name--hash`` are reported under ``name``.

Errors: these functions expect a ``pycrdt.Doc`` and (for import) a ``str``; anything else
raises whatever pycrdt or markdown-it raises (``TypeError``/``AttributeError``). Nothing
here raises on document *content*: unknown nodes and marks are exported as their text,
and nesting deeper than :data:`MAX_DEPTH` is flattened rather than recursed into.
"""

from __future__ import annotations

import json
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from .budget import Deadline
from .markdown_critic import suggestions_view
from .markdown_export import render_markdown
from .markdown_import import MAX_DEPTH as MAX_DEPTH  # nesting bound, for callers/tests
from .markdown_import import mark_sort_key, parse_markdown
from .plain_text import TEXTBLOCKS, document_text
from .xml_nodes import attributes

__all__ = [
    "document_text",
    "export_markdown",
    "fragment_to_json",
    "import_markdown",
    "json_text",
]

FRAGMENT = "default"


def export_markdown(
    doc: Doc[Any],
    *,
    footnotes: list[tuple[str, list[str]]] | None = None,
    frontmatter: dict[str, Any] | None = None,
    deadline: Deadline | None = None,
    suggestions: str = "reject",
) -> str:
    """Render the document's ``default`` fragment as GitHub-flavoured Markdown.

    ``suggestions``: pending suggestions "reject"ed (the default: the text as it stands),
    "accept"ed, or written as CriticMarkup ("critic"; crdt/markdown_critic.py).

    ``footnotes``: ``[(thread_id, [message, ...]), ...]``. Text carrying a mark whose
    name starts with ``comment`` and whose attrs hold ``{"threadId": thread_id}`` gets a
    ``[^n]`` reference after the end of each such passage; the messages become the
    footnote body (one paragraph per message) at the end. Footnotes are numbered in
    order of first reference; threads never referenced in the text are left out.

    ``frontmatter``: e.g. ``{"title": ..., "authors": [...], "date": ...}`` becomes a YAML
    front matter block; strings are always double-quoted, dates become quoted ISO strings.

    An empty document exports to ``""``; otherwise the result ends with one newline.
    Raises ``BudgetExceeded`` once `deadline` has passed.
    """
    blocks = suggestions_view(fragment_to_json(doc, deadline).get("content", []), suggestions)
    return render_markdown(blocks, footnotes=footnotes, frontmatter=frontmatter,
                           deadline=deadline)


def import_markdown(text: str, doc: Doc[Any], *, deadline: Deadline | None = None,
                    max_nodes: int | None = None) -> None:
    """Replace the ``default`` fragment of ``doc`` with the parse of ``text``.

    Runs in one transaction (one update for observers). Raw HTML stays literal text,
    nesting beyond :data:`MAX_DEPTH` is flattened into literal text, and a leading YAML
    front matter block is dropped (the caller may read it; it is not document content).

    Limits, for text from anyone: ``BudgetExceeded`` once `deadline` has passed, and
    ``TooManyNodes`` (before the document is touched) if the parse has more than
    `max_nodes` nodes (elements and text runs: each costs memory in every client).
    """
    deadline = deadline or Deadline(None)
    blocks = parse_markdown(text, deadline)
    if max_nodes is not None:
        count_nodes(blocks, max_nodes)
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    with doc.transaction():
        count = len(fragment.children)
        if count:
            del fragment.children[0:count]
        _write(fragment, blocks, deadline)


class TooManyNodes(ValueError):
    """The Markdown parses into more nodes than the caller allows."""


def count_nodes(blocks: list[dict[str, Any]], limit: int) -> int:
    """How many nodes `blocks` holds (iteratively); `TooManyNodes` past `limit`."""
    count = 0
    stack = [blocks]
    while stack:
        content = stack.pop()
        count += len(content)
        if count > limit:
            raise TooManyNodes(f"the document would have more than {limit} parts "
                               "(paragraphs, list items, table cells, formatted runs)")
        stack.extend(node["content"] for node in content if node.get("content"))
    return count


def fragment_to_json(doc: Doc[Any], deadline: Deadline | None = None) -> dict[str, Any]:
    """ProseMirror-like JSON of the fragment: ``{"type": "doc", "content": [...]}``.

    Nodes are ``{"type", "attrs"?, "content"?}`` (empty attrs/content omitted; attrs
    keys sorted), text is ``{"type": "text", "text", "marks"?}`` with marks
    ``{"type", "attrs"?}`` in a stable order, adjacent text with equal marks merged.
    Iterative, so any depth is safe. Raises ``BudgetExceeded`` once `deadline` has passed.
    """
    tick = (deadline or Deadline(None)).tick
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    root: dict[str, Any] = {"type": "doc"}
    with doc.transaction():
        stack: list[tuple[XmlFragment | XmlElement, dict[str, Any]]] = [(fragment, root)]
        while stack:
            parent, node = stack.pop()
            content: list[dict[str, Any]] = []
            for child in parent.children:
                tick()
                if isinstance(child, XmlText):
                    content.extend(_text_nodes(child))
                elif isinstance(child, XmlElement):
                    element: dict[str, Any] = {"type": child.tag or ""}
                    attrs = {str(k): _plain(v) for k, v in attributes(child).items()}
                    if attrs:
                        element["attrs"] = dict(sorted(attrs.items()))
                    content.append(element)
                    stack.append((child, element))
            content = _merge_text(content)
            if content:
                node["content"] = content
    return root


def json_text(root: dict[str, Any]) -> str:
    """`crdt.plain_text.document_text` of the JSON `fragment_to_json` made."""
    lines: list[str] = []
    stack = [root]
    while stack:
        node = stack.pop()
        content = node.get("content", [])
        inline = any(c["type"] in ("text", "hardBreak") for c in content)
        if inline or node["type"] in TEXTBLOCKS:
            lines.append(
                "".join(c.get("text", "\n" if c["type"] == "hardBreak" else "") for c in content)
            )
        else:
            stack.extend(reversed(content))
    return "\n".join(lines)


# --------------------------------------------------------------------------- helpers


def _plain(value: Any) -> Any:
    """JS numbers arrive as floats: give integral ones back as ints (recursively)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _text_nodes(text: XmlText) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    for chunk, attrs in text.diff():
        if not isinstance(chunk, str) or not chunk:
            continue  # embeds are not part of Tiptap's schema
        node: dict[str, Any] = {"type": "text", "text": chunk}
        marks = []
        for name, value in (attrs or {}).items():
            if value is None:
                continue
            mark: dict[str, Any] = {"type": str(name).split("--", 1)[0]}
            if isinstance(value, dict) and value:
                mark["attrs"] = _plain(value)
            marks.append(mark)
        if marks:
            node["marks"] = sorted(
                marks, key=lambda m: (*mark_sort_key(m), json.dumps(m, sort_keys=True))
            )
        nodes.append(node)
    return nodes


def _merge_text(content: list[dict[str, Any]]) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    pieces: list[list[str]] = []  # joined once at the end (`+=` on a dict value: quadratic)
    for node in content:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and node["type"] == "text"
            and prev["type"] == "text"
            and prev.get("marks") == node.get("marks")
        ):
            pieces[-1].append(node["text"])
        else:
            merged.append(node)
            pieces.append([node["text"]] if node["type"] == "text" else [])
    for node, parts in zip(merged, pieces, strict=True):
        if len(parts) > 1:
            node["text"] = "".join(parts)
    return merged


def _write(fragment: XmlFragment, blocks: list[dict[str, Any]], deadline: Deadline) -> None:
    """Write ProseMirror JSON below ``fragment`` as y-tiptap would (explicit stack).

    Children go in from the last to the first, each at index 0: yrs finds an index by walking
    the children from the start, so appending n children took O(n²) (100,000 paragraphs: 74 s).
    """
    stack: list[tuple[XmlFragment | XmlElement, list[dict[str, Any]]]] = [(fragment, blocks)]
    while stack:
        parent, content = stack.pop()
        # consecutive text nodes share one XmlText
        groups: list[dict[str, Any] | list[dict[str, Any]]] = []
        for node in content:
            if node["type"] != "text":
                groups.append(node)
            elif groups and isinstance(groups[-1], list):
                groups[-1].append(node)
            else:
                groups.append([node])
        for group in reversed(groups):
            deadline.tick()
            if isinstance(group, list):
                text = parent.children.insert(0, XmlText())
                for node in reversed(group):
                    marks = {m["type"]: m.get("attrs", {}) for m in node.get("marks", [])}
                    # at index 0 there is no text before to inherit marks from
                    text.insert(0, node["text"], marks or None)
                continue
            element = parent.children.insert(0, XmlElement(group["type"],
                                                           group.get("attrs") or None))
            if group.get("content"):
                stack.append((element, group["content"]))
