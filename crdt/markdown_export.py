"""ProseMirror JSON (Tiptap 3 schema) -> GitHub-flavoured Markdown.

Choices, so that :func:`crdt.markdown.import_markdown` reads the output back into the
same structure and GFM renders what the editor shows:

* Paragraphs, ATX headings, ``---`` rules, fenced code (a fence longer than any backtick
  run inside; ``~~~`` when the language holds a backtick), ``>`` quotes, collapsibles as
  ``<details>``/``<summary>…</summary>`` around their Markdown body, ``-``/``1.``
  lists, ``- [ ]``/``- [x]`` task lists, GFM pipe tables, ``![alt](src "title")`` images.
  Two adjacent lists of the same family alternate ``-``/``*`` (or ``.``/``)``) so they
  stay two lists. A list is tight unless an item holds more than a paragraph and lists.
* Marks: ``**bold**``, ``*italic*``, ``~~strike~~``, code spans (padded and delimited
  by a backtick run absent from the content), ``[text](href "title")``; underline has no
  Markdown syntax and is written ``<u>…</u>`` (GFM renders it; the importer reads it
  back), as are ``<sub>``, ``<sup>``, ``<abbr title="…">`` and ``<dfn title="…">``. Whitespace at the edges of bold/italic/strike moves outside the delimiters.
  Each text block is parsed back with the importer; if delimiters would be misread
  (e.g. ``**Note:**text`` breaks CommonMark's flanking rules) that block is written
  with ``<strong>``, ``<em>``, ``<del>`` instead, which the importer also reads.
* Hard breaks are ``\\`` line ends; in headings and table cells (single-line
  constructs) they are ``<br>``. Text is escaped where Markdown would misread it
  (``\\ * ` [ ] | ~``, ``_`` unless inside a word, ``<`` before a tag-like character,
  ``&`` before an entity, a leading ``# > - + =`` or ``1.``); leading/trailing
  whitespace of a line becomes ``&#32;``-style references so it is not stripped.
* Lossy on purpose (no Markdown form): empty paragraphs are dropped; cell spans and
  widths are not kept (cells are padded instead); a table without a header row gets its
  first row as header; blocks other than paragraphs inside a table cell are flattened to
  ``<br>``-separated text; links whose href markdown-it rejects (``javascript:`` ...)
  keep only their text; unknown marks are dropped, unknown nodes keep their text.
* Nesting deeper than :data:`EXPORT_MAX_DEPTH` is flattened to paragraphs of its text.

Inline syntax (escaping, delimiters, the read-back check) lives in
:mod:`crdt.markdown_inline`; block layout, tables, footnotes and front matter here.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Any

from .budget import Deadline
from .markdown_import import MAX_DEPTH, validate_link
from .markdown_inline import (
    TITLED,
    Item,
    code_span,
    image_markdown,
    merge,
    misread,
    render_html,
    render_items,
    split_edge_whitespace,
)

Node = dict[str, Any]
MarkKey = tuple[str, ...]
_BACKTICKS_RE = re.compile(r"`+")

#: A table is padded to a full grid (and colspans written as empty cells) up to this many
#: cells; past it, rows are written as they are (markdown-it's own limit for filling in cells).
MAX_TABLE_CELLS = 0x10000

#: Beyond this many nested containers the exporter flattens (import stops at MAX_DEPTH).
EXPORT_MAX_DEPTH = MAX_DEPTH + 14

_LISTS = frozenset({"bulletList", "orderedList", "taskList"})
_TILDES_RE = re.compile(r"~+")
_YAML_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def render_markdown(
    blocks: list[Node],
    *,
    footnotes: list[tuple[str, list[str]]] | None = None,
    frontmatter: dict[str, Any] | None = None,
    deadline: Deadline | None = None,
) -> str:
    """Render top-level block nodes (ProseMirror JSON) as Markdown.

    Raises ``BudgetExceeded`` once `deadline` has passed."""
    renderer = _Renderer(footnotes, deadline or Deadline(None))
    parts = []
    if frontmatter:
        parts.append(front_matter(frontmatter))
    body = "\n".join(renderer.blocks(blocks, 0))
    if body:
        parts.append(body)
    notes = renderer.footnote_section()
    if notes:
        parts.append(notes)
    return "\n\n".join(parts) + "\n" if parts else ""


# --------------------------------------------------------------------------- front matter


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value):
        return repr(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        value = value.isoformat()
    if not isinstance(value, str):
        text = json.dumps(value, ensure_ascii=False, default=str)
    else:
        text = json.dumps(value, ensure_ascii=False)
    # JSON strings are YAML double-quoted scalars; also escape YAML's extra line breaks.
    for ch in ("\x85", "\u2028", "\u2029", "\ufeff"):
        text = text.replace(ch, f"\\u{ord(ch):04x}")
    return text


def front_matter(data: dict[str, Any]) -> str:
    """A YAML front matter block; lists become block sequences, strings are quoted."""
    lines = ["---"]
    for key, value in data.items():
        name = str(key)
        name = name if _YAML_KEY_RE.match(name) else _yaml_scalar(name)
        if isinstance(value, (list, tuple)):
            if not value:
                lines.append(f"{name}: []")
                continue
            lines.append(f"{name}:")
            lines.extend(f"  - {_yaml_scalar(item)}" for item in value)
        else:
            lines.append(f"{name}: {_yaml_scalar(value)}")
    lines.append("---")
    return "\n".join(lines)


class _Renderer:
    def __init__(self, footnotes: list[tuple[str, list[str]]] | None,
                 deadline: Deadline) -> None:
        self.deadline = deadline
        self.notes: dict[str, list[str]] = {}
        for thread_id, messages in footnotes or []:
            self.notes[str(thread_id)] = [str(m) for m in messages]
        self.note_numbers: dict[str, int] = {}

    # ---- footnotes

    def footnote_section(self) -> str:
        out = []
        for thread_id, number in self.note_numbers.items():
            lines: list[str] = []
            for k, message in enumerate(self.notes[thread_id] or [""]):
                rendered = self.plain_paragraph(message)
                if k:
                    lines.append("")
                lines.extend(rendered.split("\n"))
            first = f"[^{number}]: {lines[0]}".rstrip()
            rest = ["    " + line if line else "" for line in lines[1:]]
            out.append("\n".join([first, *rest]))
        return "\n".join(out)

    def plain_paragraph(self, text: str) -> str:
        return self.inline([{"type": "text", "text": text}], "block")

    # ---- blocks

    def blocks(self, nodes: list[Node], depth: int, tight: bool = False) -> list[str]:
        """Render sibling blocks; blank lines between them unless ``tight``."""
        lines: list[str] = []
        prev: Node | None = None
        prev_alt = False
        for node in nodes:
            self.deadline.tick()
            alt = False
            if node.get("type") in _LISTS and prev is not None and _same_list_family(prev, node):
                alt = not prev_alt
            rendered = self.block(node, depth, alt)
            if not rendered:
                continue
            if lines and not tight:
                lines.append("")
            lines.extend(rendered)
            prev, prev_alt = node, alt
        return lines

    def block(self, node: Node, depth: int, alt: bool = False) -> list[str]:
        kind = node.get("type")
        content = node.get("content") or []
        attrs = node.get("attrs") or {}
        if depth >= EXPORT_MAX_DEPTH and kind not in ("paragraph", "heading", "codeBlock"):
            return self.flattened(node)
        if kind == "paragraph":
            text = self.inline(content, "block")
            return text.split("\n") if text else []
        if kind == "heading":
            level = min(max(_int(attrs.get("level"), 1), 1), 6)
            text = self.inline(content, "heading")
            return [("#" * level + " " + text) if text else "#" * level]
        if kind == "codeBlock":
            return _code_block(_plain_text(content), attrs.get("language"))
        if kind == "horizontalRule":
            return ["---"]
        if kind == "image":
            return [image_markdown(attrs)]
        if kind == "blockquote":
            inner = self.blocks(content, depth + 1)
            return [("> " + line) if line else ">" for line in inner] or [">"]
        if kind == "details":
            return self.details(content, depth)
        if kind in _LISTS:
            return self.list_block(node, depth, alt)
        if kind == "table":
            return self.table(node)
        if kind == "hardBreak":
            return []
        # Unknown node: keep its text.
        if any(c.get("type") == "text" for c in content):
            text = self.inline(content, "block")
            return text.split("\n") if text else []
        return self.blocks(content, depth + 1)

    def details(self, content: list[Node], depth: int) -> list[str]:
        """``<details>``, its ``<summary>`` in HTML (Markdown is not read there) on the next
        line, then its body as Markdown between blank lines, then ``</details>`` (GitHub shows
        a collapsible; the importer reads the same pieces back)."""
        summary = next((c for c in content if c.get("type") == "detailsSummary"), {})
        body = [block for c in content if c.get("type") == "detailsContent"
                for block in c.get("content") or []]
        lines = ["<details>",
                 f"<summary>{render_html(self.items(summary.get('content') or []))}</summary>"]
        inner = self.blocks(body, depth + 1)
        if inner:
            lines += ["", *inner]
        return [*lines, "", "</details>"]

    def flattened(self, node: Node) -> list[str]:
        """Too deep: every text block below becomes a top-level paragraph (iterative)."""
        lines: list[str] = []
        stack = [node]
        while stack:
            current = stack.pop()
            content = current.get("content") or []
            if any(c.get("type") in ("text", "hardBreak") for c in content):
                text = self.inline(content, "block")
                if text:
                    if lines:
                        lines.append("")
                    lines.extend(text.split("\n"))
            else:
                stack.extend(reversed(content))
        return lines

    def list_block(self, node: Node, depth: int, alt: bool) -> list[str]:
        kind = node["type"]
        items = node.get("content") or []
        # loose when the Markdown it came from was (a blank line between items) or it must be
        tight = ((node.get("attrs") or {}).get("spacing") != "loose"
                 and all(_tight_item(item) for item in items))
        start = min(max(_int((node.get("attrs") or {}).get("start"), 1), 0), 999_999_999)
        bullet = "*" if alt else "-"
        delim = ")" if alt else "."
        lines: list[str] = []
        for index, item in enumerate(items):
            if kind == "orderedList":
                marker = f"{start + index}{delim} "
                indent = len(marker)
            elif kind == "taskList" or item.get("type") == "taskItem":
                checked = bool((item.get("attrs") or {}).get("checked"))
                marker = f"{bullet} [{'x' if checked else ' '}] "
                indent = 2
            else:
                marker = f"{bullet} "
                indent = 2
            children = item.get("content") or []
            body = self.blocks(children, depth + 2, tight)
            first = children[0] if children else None
            own_line = (
                first is None
                or first.get("type") != "paragraph"
                or not first.get("content")
                or not body
            )
            pad = " " * indent
            if own_line:
                item_lines = [marker.rstrip()]
                if body and not tight and "[" in marker:
                    item_lines.append("")  # "[ ]" is a paragraph: keep the next block apart
                item_lines += [pad + line if line else "" for line in body]
            else:
                item_lines = [marker + body[0]] + [pad + line if line else "" for line in body[1:]]
            if lines and not tight:
                lines.append("")
            lines.extend(item_lines)
        return lines

    def table(self, node: Node) -> list[str]:
        rows = [row.get("content") or [] for row in node.get("content") or []]
        rows = [row for row in rows if row]
        if not rows:
            return []
        grid: list[list[str]] = []
        aligns: list[str | None] = []
        # Spans become empty cells and short rows are padded, so a few cells with colspan 1000
        # or one very wide row could multiply the output: past MAX_TABLE_CELLS neither is done
        # (GFM fills short rows with empty cells itself).
        spans = sum(_span(cell) for row in rows for cell in row) <= MAX_TABLE_CELLS
        for row in rows:
            cells: list[str] = []
            for cell in row:
                self.deadline.tick()
                col = len(cells)
                text = self.cell(cell)
                align = (cell.get("attrs") or {}).get("align")
                while len(aligns) <= col:
                    aligns.append(None)
                if aligns[col] is None and align in ("left", "right", "center"):
                    aligns[col] = align
                cells.append(text)
                if spans:
                    cells.extend("" for _ in range(_span(cell) - 1))
            grid.append(cells)
        width = max(len(r) for r in grid)
        aligns += [None] * (width - len(aligns))
        sep = {"left": ":---", "right": "---:", "center": ":---:", None: "---"}
        pad = width * len(grid) <= MAX_TABLE_CELLS

        def line(cells: list[str], pad: bool = True) -> str:
            if pad:
                cells = cells + [""] * (width - len(cells))
            return "| " + " | ".join(cells) + " |"

        out = [line(grid[0]), "| " + " | ".join(sep[a] for a in aligns[:width]) + " |"]
        out.extend(line(r, pad) for r in grid[1:])
        return out

    def cell(self, cell: Node) -> str:
        parts: list[str] = []
        stack = list(reversed(cell.get("content") or []))
        while stack:
            block = stack.pop()
            content = block.get("content") or []
            if block.get("type") == "image":
                parts.append(image_markdown(block.get("attrs") or {}))
            elif block.get("type") == "codeBlock":
                text = _plain_text(content)
                if text:
                    parts.append(code_span(text.replace("\n", " "), in_table=True))
            elif (
                any(c.get("type") in ("text", "hardBreak") for c in content)
                or block.get("type") == "paragraph"
            ):
                text = self.inline(content, "table")
                if text:
                    parts.append(text)
            else:
                stack.extend(reversed(content))
        return "<br>".join(parts)

    # ---- inline

    def items(self, content: list[Node]) -> list[Item]:
        items: list[Item] = []
        for node in content:
            kind = node.get("type")
            if kind == "text":
                marks, code, threads = self._marks(node.get("marks") or [])
                for n, piece in enumerate(node.get("text", "").split("\n")):
                    if n:
                        items.append(Item("break"))
                    if piece:
                        items.append(Item("text", piece, marks, code, {"threads": threads}))
            elif kind == "hardBreak":
                items.append(Item("break"))
            elif kind == "image":
                items.append(Item("image", attrs=node.get("attrs") or {}))
            elif kind == "criticMarker":  # CriticMarkup around a suggestion: as it is
                items.append(Item("raw", str(node.get("text") or "")))
            elif kind == "mention":  # @someone in the text: as typed
                attrs = node.get("attrs") or {}
                name = attrs.get("username") or attrs.get("label") or attrs.get("id")
                if isinstance(name, str) and name:
                    items.append(Item("text", "@" + name))
            elif node.get("content"):  # unknown inline node: keep its text
                items.extend(self.items(node["content"]))
        items = self._footnote_refs(items)
        items = merge(items)
        items = split_edge_whitespace(items)
        # breaks/images/refs take the marks they sit inside
        for i, item in enumerate(items):
            if item.kind in ("break", "image"):
                before = items[i - 1].marks if i else frozenset()
                after = items[i + 1].marks if i + 1 < len(items) else frozenset()
                item.marks = before & after
        return merge(items)

    def _marks(self, marks: list[Node]) -> tuple[frozenset[MarkKey], bool, tuple[str, ...]]:
        keys: set[MarkKey] = set()
        code = False
        threads: list[str] = []
        for mark in marks:
            name = str(mark.get("type", ""))
            attrs = mark.get("attrs") or {}
            if name == "code":
                code = True
            elif name in ("bold", "italic", "strike", "underline", "subscript", "superscript"):
                keys.add((name,))
            elif name == "link":
                href = str(attrs.get("href") or "")
                if href == "" or validate_link(href):
                    keys.add(("link", href, str(attrs.get("title") or "")))
            elif name in TITLED:
                keys.add((name, str(attrs.get("title") or "")))
            elif name.startswith("comment") and attrs.get("threadId") is not None:
                thread = str(attrs["threadId"])
                if thread in self.notes:
                    threads.append(thread)
        return frozenset(keys), code, tuple(threads)

    def _footnote_refs(self, items: list[Item]) -> list[Item]:
        if not self.notes:
            return items
        out: list[Item] = []
        for i, item in enumerate(items):
            out.append(item)
            threads = item.attrs.get("threads") or ()
            nxt = items[i + 1].attrs.get("threads", ()) if i + 1 < len(items) else ()
            for thread in threads:
                if thread in nxt:
                    continue
                number = self.note_numbers.setdefault(thread, len(self.note_numbers) + 1)
                marks = frozenset(k for k in item.marks if k[0] != "link")
                out.append(Item("raw", f"[^{number}]", marks))
        return out

    def inline(self, content: list[Node], mode: str) -> str:
        """Render inline nodes; ``mode`` is ``block``, ``heading`` or ``table``."""
        self.deadline.tick()
        items = self.items(content)
        if not items:
            return ""
        text = render_items(items, mode, html=False)
        if misread(text, items, mode, self.deadline):
            text = render_items(items, mode, html=True)
        return text


# --------------------------------------------------------------------------- block helpers


def _span(cell: Node) -> int:
    return min(max(_int((cell.get("attrs") or {}).get("colspan"), 1), 1), 1000)


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


def _plain_text(content: list[Node]) -> str:
    return "".join(
        c.get("text", "")
        if c.get("type") == "text"
        else ("\n" if c.get("type") == "hardBreak" else "")
        for c in content
    )


def _code_block(text: str, language: Any) -> list[str]:
    info = "" if language is None else str(language).replace("\n", " ").strip()
    info = re.sub(r"([\\&])", r"\\\1", info)
    char = "~" if "`" in info else "`"
    runs = (_TILDES_RE if char == "~" else _BACKTICKS_RE).findall(text)
    fence = char * max(3, max((len(r) for r in runs), default=0) + 1)
    body = text.split("\n") if text else []
    return [fence + info, *body, fence]


def _same_list_family(a: Node, b: Node) -> bool:
    ordered = {a.get("type"), b.get("type")} & {"orderedList"}
    if ordered:
        return a.get("type") == b.get("type")
    return a.get("type") in _LISTS and b.get("type") in _LISTS


def _tight_item(item: Node) -> bool:
    children = item.get("content") or []
    if not children:
        return True
    first = children[0]
    if first.get("type") != "paragraph":
        return False
    rest = children[1:]
    if any(child.get("type") not in _LISTS for child in rest):
        return False
    if rest:
        if not first.get("content") and item.get("type") != "taskItem":
            return True  # a bare marker line: nothing to interrupt ("[ ]" would be)
        nested = rest[0]
        if (
            nested.get("type") == "orderedList"
            and _int((nested.get("attrs") or {}).get("start"), 1) != 1
        ):
            return False  # only a list starting at 1 may interrupt a paragraph
        nested_items = nested.get("content") or []
        if not nested_items or not _first_paragraph_text(nested_items[0]):
            return False  # an empty item cannot interrupt a paragraph
    return True


def _first_paragraph_text(item: Node) -> bool:
    children = item.get("content") or []
    return bool(children and children[0].get("type") == "paragraph" and children[0].get("content"))
