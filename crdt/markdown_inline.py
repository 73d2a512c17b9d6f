"""Markdown inline syntax for the exporter: escaping, code spans, links, mark delimiters.

:func:`render_items` nests marks with a stack (keeping the longest still-open prefix,
opening the longest-running marks first) and :func:`misread` parses the result back
with the importer so the exporter can fall back to HTML tags where CommonMark's
flanking rules would misread ``*``/``~~`` delimiters.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from .budget import Deadline
from .markdown_import import parse_inline

MarkKey = tuple[str, ...]

DELIMITED = frozenset({"bold", "italic", "strike"})
# which of two marks covering the same run opens first: formatting outside a link, as people
# write it (``**[Live demo](…)**``)
_MARK_RANK = {"link": 0, "bold": 1, "italic": 2, "strike": 3, "underline": 4, "subscript": 5,
              "superscript": 6, "abbr": 7, "dfn": 8}
_MARKDOWN_DELIMS = {"bold": "**", "italic": "*", "strike": "~~"}
_HTML_TAGS = {"bold": "strong", "italic": "em", "strike": "del", "underline": "u",
              "subscript": "sub", "superscript": "sup", "code": "code"}
#: marks with no Markdown syntax: written as HTML tags (the importer reads them back)
HTML_ONLY = frozenset({"underline", "subscript", "superscript", "abbr", "dfn"})
#: marks written as an HTML tag with a title attribute: key ``(name, title)``
TITLED = frozenset({"abbr", "dfn"})
_ENTITY_RE = re.compile(r"&(?=#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|[A-Za-z][A-Za-z0-9]{1,31};)")
_ORDERED_START_RE = re.compile(r"^(\d{1,9})([.)])")
_BACKTICKS_RE = re.compile(r"`+")


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


def html_attribute(value: str) -> str:
    """A quoted HTML attribute value that markdown-it keeps inside one inline tag: ``'…'``
    when the value holds ``"`` but no ``'``; ``&``, ``<``, ``>`` and line breaks as character
    references."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("\r", "&#13;").replace("\n", "&#10;")
    if '"' in value and "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'


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


def image_markdown(attrs: dict[str, Any], *, in_link: bool = False) -> str:
    """``![alt](src "title")``; a linked image (``href``) inside ``[…](href)`` unless it already
    sits inside a link."""
    alt = escape_text(str(attrs.get("alt") or ""))
    src = str(attrs.get("src") or "")
    title = attrs.get("title")
    image = f"![{alt}]({link_destination(src)}{link_title(str(title) if title else None)})"
    href = None if in_link else image_href(attrs)
    return f"[{image}]({link_destination(href)})" if href is not None else image


def image_href(attrs: dict[str, Any]) -> str | None:
    """Where a linked image points (an acceptable destination), else None."""
    from .markdown_import import validate_link

    href = attrs.get("href")
    return href if isinstance(href, str) and href and validate_link(href) else None


# --------------------------------------------------------------------------- inline rendering


class Item:
    """One inline piece: text, a hard break, an inline image or a raw footnote ref."""

    __slots__ = ("kind", "text", "marks", "code", "attrs")

    def __init__(
        self,
        kind: str,
        text: str = "",
        marks: Iterable[MarkKey] = (),
        code: bool = False,
        attrs: dict[str, Any] | None = None,
    ) -> None:
        self.kind = kind
        self.text = text
        self.marks: frozenset[MarkKey] = frozenset(marks)
        self.code = code
        self.attrs = attrs if attrs is not None else {}


def _mark_order(key: MarkKey) -> tuple[int, MarkKey]:
    return (_MARK_RANK.get(key[0], 9), key)


def render_items(items: list[Item], mode: str, html: bool) -> str:
    """Stack-based mark nesting: keep the longest still-valid prefix of open marks."""
    runs: list[dict[MarkKey, int]] = [{} for _ in items]
    for i in range(len(items) - 1, -1, -1):
        for key in items[i].marks:
            runs[i][key] = 1 + (runs[i + 1].get(key, 0) if i + 1 < len(items) else 0)

    def opener(key: MarkKey) -> str:
        if key[0] == "link":
            return "["
        if key[0] in TITLED:
            return f"<{key[0]} title={html_attribute(key[1])}>" if key[1] else f"<{key[0]}>"
        if html or key[0] in HTML_ONLY:
            return f"<{_HTML_TAGS[key[0]]}>"
        return _MARKDOWN_DELIMS[key[0]]

    def closer(key: MarkKey) -> str:
        if key[0] == "link":
            return f"]({link_destination(key[1])}{link_title(key[2])})"
        if key[0] in TITLED:
            return f"</{key[0]}>"
        if html or key[0] in HTML_ONLY:
            return f"</{_HTML_TAGS[key[0]]}>"
        return _MARKDOWN_DELIMS[key[0]]

    lines: list[list[str]] = [[]]
    stack: list[MarkKey] = []
    last_text: str | None = None
    # Both were asked per item by scanning (`"".join(out)`, `items[i + 1 :]`): quadratic on a
    # paragraph of many short runs or hard breaks. Track them instead.
    line_empty = True  # nothing written on the current line yet
    last_content = max((i for i, item in enumerate(items) if item.kind != "break"), default=-1)
    for i, item in enumerate(items):
        keep = 0
        while keep < len(stack) and stack[keep] in item.marks:
            keep += 1
        out = lines[-1]
        if len(stack) > keep or item.marks - set(stack):
            line_empty = False  # delimiters are never empty
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
            if mode == "block" and i < last_content:
                lines.append([])
                line_empty = True
            else:
                out.append("<br>")
                line_empty = False
        elif item.kind == "image":
            href = image_href(item.attrs) if not any(k[0] == "link" for k in stack) else None
            if href is None:
                out.append(image_markdown(item.attrs, in_link=True))
            else:  # a row of images with one link (badges) stays one link
                same = [j for j in (i - 1, i + 1) if 0 <= j < len(items)
                        and items[j].kind == "image" and image_href(items[j].attrs) == href
                        and items[j].marks == item.marks]
                opens = i - 1 not in same
                closes = i + 1 not in same
                out.append(("[" if opens else "") + image_markdown(item.attrs, in_link=True)
                           + (f"]({link_destination(href)})" if closes else ""))
            line_empty = False
        elif item.kind == "raw":
            out.append(item.text)
            line_empty = line_empty and not item.text
        elif item.code:
            out.append(code_span(item.text, mode == "table"))
            line_empty = False
        else:
            text = escape_text(item.text)
            if mode == "block" and line_empty and not item.text[0].isspace():
                text = _escape_line_start(text)
            out.append(text)
            last_text = text
            line_empty = line_empty and not text
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


Canonical = tuple[str, Any, frozenset[MarkKey]]  # (kind, text or image key, marks)


def render_html(items: list[Item]) -> str:
    """Inline items as HTML, where Markdown is not read (a ``<summary>``): the same nesting as
    :func:`render_items`, text escaped, links as ``<a href>``, code as ``<code>``, breaks as
    ``<br>``, images as ``<img>``. crdt/markdown_html.py reads all of it back."""
    keyed = [item.marks | ({("code",)} if item.code else frozenset()) for item in items]
    runs: list[dict[MarkKey, int]] = [{} for _ in items]
    for i in range(len(items) - 1, -1, -1):
        for key in keyed[i]:
            runs[i][key] = 1 + (runs[i + 1].get(key, 0) if i + 1 < len(items) else 0)

    def opener(key: MarkKey) -> str:
        if key[0] == "link":
            title = f" title={html_attribute(key[2])}" if key[2] else ""
            return f"<a href={html_attribute(key[1])}{title}>"
        if key[0] in TITLED:
            return f"<{key[0]} title={html_attribute(key[1])}>" if key[1] else f"<{key[0]}>"
        return f"<{_HTML_TAGS.get(key[0], key[0])}>"

    def closer(key: MarkKey) -> str:
        return f"</{'a' if key[0] == 'link' else _HTML_TAGS.get(key[0], key[0])}>"

    out: list[str] = []
    stack: list[MarkKey] = []
    for i, item in enumerate(items):
        marks = keyed[i]
        keep = 0
        while keep < len(stack) and stack[keep] in marks:
            keep += 1
        while len(stack) > keep:
            out.append(closer(stack.pop()))
        for key in sorted(marks - set(stack), key=lambda k: (-runs[i][k], _mark_order(k))):
            out.append(opener(key))
            stack.append(key)
        if item.kind == "break":
            out.append("<br>")
        elif item.kind == "image":
            attrs = item.attrs
            alt = html_attribute(str(attrs.get("alt") or ""))
            title = f" title={html_attribute(str(attrs['title']))}" if attrs.get("title") else ""
            out.append(f"<img src={html_attribute(str(attrs.get('src') or ''))} alt={alt}{title}>")
        else:
            out.append(html_text(item.text))
    while stack:
        out.append(closer(stack.pop()))
    return "".join(out)


def html_text(text: str) -> str:
    """Text as HTML shows it: ``&``, ``<``, ``>`` escaped; a line break is a space."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ")


def _canonical(items: Iterable[Canonical]) -> list[Canonical]:
    out: list[Canonical] = []
    texts: list[list[str]] = []  # pieces of each text entry, joined once at the end
    for kind, value, marks in items:
        if kind == "text" and out and out[-1][0] == "text" and out[-1][2] == marks:
            texts[-1].append(value)
        elif kind != "text" or value:
            out.append((kind, value, marks))
            texts.append([value] if kind == "text" else [])
    return [(kind, "".join(parts), marks) if kind == "text" else (kind, value, marks)
            for (kind, value, marks), parts in zip(out, texts, strict=True)]


def misread(text: str, items: list[Item], mode: str, deadline: Deadline | None = None) -> bool:
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
    got: list[Canonical] = []
    for node in parse_inline(src, deadline):
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
                elif mark["type"] in TITLED:
                    keys.add((mark["type"], str(attrs.get("title") or "")))
                else:
                    keys.add((mark["type"],))
            got.append(("text", node["text"], frozenset(keys)))
    # images never carry marks after import
    expected = [(k, v, frozenset() if k == "image" else m) for k, v, m in expected]
    return _canonical(got) != expected


def _image_key(attrs: dict[str, Any]) -> tuple[str, str, str]:
    return (str(attrs.get("src") or ""), str(attrs.get("alt") or ""), str(attrs.get("title") or ""))


def merge(items: list[Item]) -> list[Item]:
    """Join adjacent text items that look alike (each joined text built once: linear)."""
    out: list[Item] = []
    pieces: list[str] = []  # texts to join into out[-1]
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
            if not pieces:
                pieces.append(prev.text)
            pieces.append(item.text)
        else:
            if pieces:
                out[-1].text = "".join(pieces)
                pieces = []
            out.append(item)
    if pieces:
        out[-1].text = "".join(pieces)
    return out


def split_edge_whitespace(items: list[Item]) -> list[Item]:
    """Bold/italic/strike spans may not start or end with whitespace: trim them.

    Works per character: for every maximal run of a delimited mark, whitespace at the
    run's edges loses that mark (so it ends up outside the delimiters).
    """
    units: list[tuple[Item, str | None, set[MarkKey]]] = []
    for item in items:
        if item.kind == "text" and not item.code:
            units.extend((item, ch, set(item.marks)) for ch in item.text)
        else:
            units.append((item, None, set(item.marks)))
    for key in {k for item in items for k in item.marks if k[0] in DELIMITED}:
        i = 0
        while i < len(units):
            if key not in units[i][2]:
                i += 1
                continue
            j = i
            while j < len(units) and key in units[j][2]:
                j += 1
            a = i
            while a < j and (char := units[a][1]) is not None and char.isspace():
                units[a][2].discard(key)
                a += 1
            b = j - 1
            while b >= a and (char := units[b][1]) is not None and char.isspace():
                units[b][2].discard(key)
                b -= 1
            i = j
    out: list[Item] = []
    chars: list[list[str]] = []  # characters of each new text item (`+=` per char: quadratic)
    for source, ch, marks in units:
        if ch is None:
            out.append(source)
            chars.append([])
            continue
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.attrs is source.attrs
            and prev.kind == "text"
            and prev.marks == marks
            and not prev.code
            and chars[-1]
        ):
            chars[-1].append(ch)
        else:
            out.append(Item("text", "", marks, False, source.attrs))
            chars.append([ch])
    for item, parts in zip(out, chars, strict=True):
        if parts:
            item.text = "".join(parts)
    return out
