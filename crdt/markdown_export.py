"""ProseMirror JSON (Tiptap 3 schema) -> GitHub-flavoured Markdown.

Choices, so that :func:`crdt.markdown.import_markdown` reads the output back into the
same structure and GFM renders what the editor shows:

* Paragraphs, ATX headings, ``---`` rules, fenced code (a fence longer than any backtick
  run inside; ``~~~`` when the language holds a backtick), ``>`` quotes, ``-``/``1.``
  lists, ``- [ ]``/``- [x]`` task lists, GFM pipe tables, ``![alt](src "title")`` images.
  Two adjacent lists of the same family alternate ``-``/``*`` (or ``.``/``)``) so they
  stay two lists. A list is tight unless an item holds more than a paragraph and lists.
* Marks: ``**bold**``, ``*italic*``, ``~~strike~~``, code spans (padded and delimited
  by a backtick run absent from the content), ``[text](href "title")``; underline has no
  Markdown syntax and is written ``<u>…</u>`` (GFM renders it; the importer reads it
  back). Whitespace at the edges of bold/italic/strike moves outside the delimiters.
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
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Iterable
from typing import Any

from .markdown_import import MAX_DEPTH, parse_inline, validate_link

Node = dict[str, Any]
MarkKey = tuple[str, ...]

#: Beyond this many nested containers the exporter flattens (import stops at MAX_DEPTH).
EXPORT_MAX_DEPTH = MAX_DEPTH + 14

_LISTS = frozenset({"bulletList", "orderedList", "taskList"})
_DELIMITED = frozenset({"bold", "italic", "strike"})
_MARK_RANK = {"link": 0, "bold": 1, "italic": 2, "strike": 3, "underline": 4}
_MARKDOWN_DELIMS = {"bold": "**", "italic": "*", "strike": "~~"}
_HTML_TAGS = {"bold": "strong", "italic": "em", "strike": "del", "underline": "u"}
_ENTITY_RE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_ORDERED_START_RE = re.compile(r"^(\d{1,9})([.)])")
_BACKTICKS_RE = re.compile(r"`+")
_TILDES_RE = re.compile(r"~+")
_YAML_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def render_markdown(
    blocks: list[Node],
    *,
    footnotes: list[tuple[str, list[str]]] | None = None,
    frontmatter: dict | None = None,
) -> str:
    """Render top-level block nodes (ProseMirror JSON) as Markdown."""
    renderer = _Renderer(footnotes)
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


def front_matter(data: dict) -> str:
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


# --------------------------------------------------------------------------- inline helpers


def escape_text(text: str) -> str:
    """Backslash-escape text so that Markdown reads it literally (inline context)."""
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch in "\\*`[]|~":
            out.append("\\" + ch)
        elif ch == "_":
            inside_word = 0 < i < last and text[i - 1].isalnum() and text[i + 1].isalnum()
            out.append("_" if inside_word else "\\_")
        elif ch == "<":
            nxt = text[i + 1] if i < last else ""
            out.append("\\<" if nxt.isalnum() or nxt in "/!?" else "<")
        elif ch == "&" and _ENTITY_RE.match(text, i):
            out.append("\\&")
        else:
            out.append(ch)
    return "".join(out)


def _escape_line_start(escaped: str) -> str:
    """Escape a block marker at the very start of a line (input already escaped)."""
    if not escaped:
        return escaped
    if escaped[0] in "#>-+=":
        return "\\" + escaped
    m = _ORDERED_START_RE.match(escaped)
    if m:
        return m.group(1) + "\\" + escaped[len(m.group(1)) :]
    return escaped


def _encode_edges(line: str, start: bool = True, end: bool = True) -> str:
    """Whitespace at a line's edges would be stripped: write it as char references."""
    if start:
        n = len(line) - len(line.lstrip())
        line = "".join(f"&#{ord(c)};" for c in line[:n]) + line[n:]
    if end:
        stripped = line.rstrip()
        line = stripped + "".join(f"&#{ord(c)};" for c in line[len(stripped) :])
    return line


def code_span(text: str, in_table: bool = False) -> str:
    if in_table:
        text = text.replace("|", "\\|")
    runs = {len(m) for m in _BACKTICKS_RE.findall(text)}
    n = 1
    while n in runs:
        n += 1
    fence = "`" * n
    pad = (
        text.startswith("`")
        or text.endswith("`")
        or (text.startswith(" ") and text.endswith(" ") and text.strip(" ") != "")
    )
    return f"{fence} {text} {fence}" if pad else f"{fence}{text}{fence}"


def link_destination(href: str) -> str:
    """A link destination that markdown-it reads back as exactly ``href``."""
    angle = href == "" or any(c in href for c in " \t<>") or not _balanced(href)
    inner = re.sub(r"([<>\\])" if angle else r"(\\)", r"\\\1", href)
    inner = _ENTITY_RE.sub(r"\\&", inner)
    return f"<{inner}>" if angle else inner


def _balanced(href: str) -> bool:
    depth = 0
    for ch in href:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False
        elif ord(ch) < 0x20 or ch == "\x7f":
            return False
    return depth == 0


def link_title(title: str | None) -> str:
    if not title:
        return ""
    escaped = title.replace("\\", "\\\\").replace('"', '\\"')
    escaped = _ENTITY_RE.sub("\\\\&", escaped)
    return f' "{escaped}"'


def image_markdown(attrs: dict) -> str:
    alt = escape_text(str(attrs.get("alt") or ""))
    src = str(attrs.get("src") or "")
    title = attrs.get("title")
    return f"![{alt}]({link_destination(src)}{link_title(str(title) if title else None)})"


# --------------------------------------------------------------------------- inline rendering


class _Item:
    """One inline piece: text, a hard break, an inline image or a raw footnote ref."""

    __slots__ = ("kind", "text", "marks", "code", "attrs")

    def __init__(
        self,
        kind: str,
        text: str = "",
        marks: Iterable[MarkKey] = (),
        code: bool = False,
        attrs: dict | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.marks: frozenset[MarkKey] = frozenset(marks)
        self.code = code
        self.attrs = attrs or {}


def _mark_order(key: MarkKey) -> tuple[int, MarkKey]:
    return (_MARK_RANK.get(key[0], 9), key)


class _Renderer:
    def __init__(self, footnotes: list[tuple[str, list[str]]] | None) -> None:
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
        tight = all(_tight_item(item) for item in items)
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
        for row in rows:
            cells: list[str] = []
            for cell in row:
                col = len(cells)
                text = self.cell(cell)
                align = (cell.get("attrs") or {}).get("align")
                while len(aligns) <= col:
                    aligns.append(None)
                if aligns[col] is None and align in ("left", "right", "center"):
                    aligns[col] = align
                cells.append(text)
                span = min(max(_int((cell.get("attrs") or {}).get("colspan"), 1), 1), 1000)
                cells.extend("" for _ in range(span - 1))
            grid.append(cells)
        width = max(len(r) for r in grid)
        aligns += [None] * (width - len(aligns))
        sep = {"left": ":---", "right": "---:", "center": ":---:", None: "---"}

        def line(cells: list[str]) -> str:
            cells = cells + [""] * (width - len(cells))
            return "| " + " | ".join(cells) + " |"

        out = [line(grid[0]), "| " + " | ".join(sep[a] for a in aligns[:width]) + " |"]
        out.extend(line(r) for r in grid[1:])
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

    def items(self, content: list[Node]) -> list[_Item]:
        items: list[_Item] = []
        for node in content:
            kind = node.get("type")
            if kind == "text":
                marks, code, threads = self._marks(node.get("marks") or [])
                for n, piece in enumerate(node.get("text", "").split("\n")):
                    if n:
                        items.append(_Item("break"))
                    if piece:
                        items.append(_Item("text", piece, marks, code, {"threads": threads}))
            elif kind == "hardBreak":
                items.append(_Item("break"))
            elif kind == "image":
                items.append(_Item("image", attrs=node.get("attrs") or {}))
            elif node.get("content"):  # unknown inline node: keep its text
                items.extend(self.items(node["content"]))
        items = self._footnote_refs(items)
        items = _merge(items)
        items = _split_edge_whitespace(items)
        # breaks/images/refs take the marks they sit inside
        for i, item in enumerate(items):
            if item.kind in ("break", "image"):
                before = items[i - 1].marks if i else frozenset()
                after = items[i + 1].marks if i + 1 < len(items) else frozenset()
                item.marks = before & after
        return _merge(items)

    def _marks(self, marks: list[Node]) -> tuple[frozenset[MarkKey], bool, tuple[str, ...]]:
        keys: set[MarkKey] = set()
        code = False
        threads: list[str] = []
        for mark in marks:
            name = str(mark.get("type", ""))
            attrs = mark.get("attrs") or {}
            if name == "code":
                code = True
            elif name in ("bold", "italic", "strike", "underline"):
                keys.add((name,))
            elif name == "link":
                href = str(attrs.get("href") or "")
                if href == "" or validate_link(href):
                    keys.add(("link", href, str(attrs.get("title") or "")))
            elif name.startswith("comment") and attrs.get("threadId") is not None:
                thread = str(attrs["threadId"])
                if thread in self.notes:
                    threads.append(thread)
        return frozenset(keys), code, tuple(threads)

    def _footnote_refs(self, items: list[_Item]) -> list[_Item]:
        if not self.notes:
            return items
        out: list[_Item] = []
        for i, item in enumerate(items):
            out.append(item)
            threads = item.attrs.get("threads") or ()
            nxt = items[i + 1].attrs.get("threads", ()) if i + 1 < len(items) else ()
            for thread in threads:
                if thread in nxt:
                    continue
                number = self.note_numbers.setdefault(thread, len(self.note_numbers) + 1)
                marks = frozenset(k for k in item.marks if k[0] != "link")
                out.append(_Item("raw", f"[^{number}]", marks))
        return out

    def inline(self, content: list[Node], mode: str) -> str:
        """Render inline nodes; ``mode`` is ``block``, ``heading`` or ``table``."""
        items = self.items(content)
        if not items:
            return ""
        text = _render_items(items, mode, html=False)
        if _misread(text, items, mode):
            text = _render_items(items, mode, html=True)
        return text


def _render_items(items: list[_Item], mode: str, html: bool) -> str:
    """Stack-based mark nesting: keep the longest still-valid prefix of open marks."""
    runs: list[dict[MarkKey, int]] = [{} for _ in items]
    for i in range(len(items) - 1, -1, -1):
        for key in items[i].marks:
            runs[i][key] = 1 + (runs[i + 1].get(key, 0) if i + 1 < len(items) else 0)

    def opener(key: MarkKey) -> str:
        if key[0] == "link":
            return "["
        if html or key[0] == "underline":
            return f"<{_HTML_TAGS[key[0]]}>"
        return _MARKDOWN_DELIMS[key[0]]

    def closer(key: MarkKey) -> str:
        if key[0] == "link":
            return f"]({link_destination(key[1])}{link_title(key[2])})"
        if html or key[0] == "underline":
            return f"</{_HTML_TAGS[key[0]]}>"
        return _MARKDOWN_DELIMS[key[0]]

    lines: list[list[str]] = [[]]
    stack: list[MarkKey] = []
    last_text: str | None = None
    for i, item in enumerate(items):
        keep = 0
        while keep < len(stack) and stack[keep] in item.marks:
            keep += 1
        out = lines[-1]
        while len(stack) > keep:
            out.append(closer(stack.pop()))
        new = sorted(item.marks - set(stack), key=lambda k: (-runs[i][k], _mark_order(k)))
        for key in new:
            if key[0] == "link" and out and out[-1] is last_text and last_text.endswith("!"):
                out[-1] = last_text[:-1] + "\\!"  # "![" would start an image
            out.append(opener(key))
            stack.append(key)
        if item.kind == "break":
            # A paragraph cannot end in a backslash break: trailing breaks are <br>.
            if mode == "block" and any(later.kind != "break" for later in items[i + 1 :]):
                lines.append([])
            else:
                out.append("<br>")
        elif item.kind == "image":
            out.append(image_markdown(item.attrs))
        elif item.kind == "raw":
            out.append(item.text)
        elif item.code:
            out.append(code_span(item.text, mode == "table"))
        else:
            text = escape_text(item.text)
            if mode == "block" and not "".join(out) and not item.text[0].isspace():
                text = _escape_line_start(text)
            out.append(text)
            last_text = text
    while stack:
        lines[-1].append(closer(stack.pop()))
    rendered = ["".join(parts) for parts in lines]
    if mode == "block":
        rendered = [_encode_edges(line) for line in rendered]
        return "\\\n".join(rendered)
    text = _encode_edges(rendered[0])
    if mode == "heading" and text.endswith("#"):
        text = text[:-1] + "\\#"
    return text


def _canonical(items: Iterable[tuple[str, Any, frozenset]]) -> list[tuple[str, Any, frozenset]]:
    out: list[tuple[str, Any, frozenset]] = []
    for kind, value, marks in items:
        if kind == "text" and out and out[-1][0] == "text" and out[-1][2] == marks:
            out[-1] = ("text", out[-1][1] + value, marks)
        elif kind != "text" or value:
            out.append((kind, value, marks))
    return out


def _misread(text: str, items: list[_Item], mode: str) -> bool:
    """Would the importer read ``text`` back as something other than ``items``?"""
    src = text.replace("\\|", "|") if mode == "table" else text
    expected = _canonical(
        (
            item.kind if item.kind in ("break", "image") else "text",
            _image_key(item.attrs) if item.kind == "image" else item.text,
            item.marks | ({("code",)} if item.code else frozenset()),
        )
        if item.kind != "break"
        else ("break", None, frozenset())
        for item in items
    )
    got = []
    for node in parse_inline(src):
        if node["type"] == "hardBreak":
            got.append(("break", None, frozenset()))
        elif node["type"] == "image":
            got.append(("image", _image_key(node.get("attrs") or {}), frozenset()))
        else:
            keys: set[MarkKey] = set()
            for mark in node.get("marks", []):
                attrs = mark.get("attrs") or {}
                if mark["type"] == "link":
                    keys.add(("link", str(attrs.get("href") or ""), str(attrs.get("title") or "")))
                else:
                    keys.add((mark["type"],))
            got.append(("text", node["text"], frozenset(keys)))
    # images never carry marks after import
    expected = [(k, v, frozenset() if k == "image" else m) for k, v, m in expected]
    return _canonical(got) != expected


def _image_key(attrs: dict) -> tuple[str, str, str]:
    return (str(attrs.get("src") or ""), str(attrs.get("alt") or ""), str(attrs.get("title") or ""))


def _merge(items: list[_Item]) -> list[_Item]:
    out: list[_Item] = []
    for item in items:
        prev = out[-1] if out else None
        if (
            prev is not None
            and item.kind == "text"
            and prev.kind == "text"
            and prev.marks == item.marks
            and prev.code == item.code
            and prev.attrs.get("threads") == item.attrs.get("threads")
        ):
            prev.text += item.text
        else:
            out.append(item)
    return out


def _split_edge_whitespace(items: list[_Item]) -> list[_Item]:
    """Move whitespace at the edges of bold/italic/strike outside the delimiters."""
    out: list[_Item] = []
    for i, item in enumerate(items):
        delimited = {k for k in item.marks if k[0] in _DELIMITED}
        if item.kind != "text" or item.code or not delimited:
            out.append(item)
            continue
        before = items[i - 1].marks if i else frozenset()
        after = items[i + 1].marks if i + 1 < len(items) else frozenset()
        text = item.text
        core = text.strip()
        lead = text[: len(text) - len(text.lstrip())]
        trail = text[len(text.rstrip()) :] if core else ""
        if not core:
            keep = {k for k in item.marks if k[0] not in _DELIMITED or (k in before and k in after)}
            out.append(_Item("text", text, keep, False, item.attrs))
            continue
        if lead:
            keep = {k for k in item.marks if k[0] not in _DELIMITED or k in before}
            out.append(_Item("text", lead, keep, False, item.attrs))
        out.append(_Item("text", core, item.marks, False, item.attrs))
        if trail:
            keep = {k for k in item.marks if k[0] not in _DELIMITED or k in after}
            out.append(_Item("text", trail, keep, False, item.attrs))
    return out


# --------------------------------------------------------------------------- block helpers


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
