"""Raw HTML in imported Markdown (READMEs carry it): a safe subset becomes real nodes.

An HTML block is first sanitised by nh3 (comments, scripts, styles, event handlers and unknown
tags go; the text of unknown tags stays), then read by Python's HTML parser into the same
ProseMirror JSON the Markdown importer makes:

* ``<p>`` (any ``align``), ``<div>``, ``<center>`` -> paragraphs; ``<h1>``-``<h6>`` -> headings;
  ``<pre>`` -> a code block; ``<hr>`` -> a divider; ``<br>`` -> a hard break
* ``<img src alt title width>`` -> an inline image (inside ``<a href>``: a linked image)
* ``<a href title>`` -> a link; ``<b>``/``<strong>``, ``<i>``/``<em>``, ``<u>``/``<ins>``,
  ``<s>``/``<del>``/``<strike>``, ``<code>``/``<kbd>``/``<tt>``/``<samp>``, ``<sub>``, ``<sup>``
  -> marks; ``<abbr title>``, ``<dfn title>`` -> marks that keep their title (the tooltip)
* ``<blockquote>`` -> a quote; ``<details>`` -> a collapsible ``details`` (its ``<summary>`` the
  ``detailsSummary``, plain text with marks, the rest its ``detailsContent``); a ``<summary>``
  elsewhere is a bold paragraph
* ``<ul>``/``<ol start>``/``<li>`` -> lists; ``<table>``/``<tr>``/``<th>``/``<td>`` -> a table;
  ``<dl>``: each ``<dt>`` a bold paragraph, each ``<dd>`` a paragraph

Links and images keep only destinations the Markdown importer accepts (no ``javascript:``).
Everything is bounded by the block's size (the parser is linear; depth is capped).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import nh3

Node = dict[str, Any]
LinkOk = Callable[[str], bool]  # may a link or image point there
LinkMark = Callable[[str, "str | None"], Node]  # a link mark from (href, title)
Attrs = list[tuple[str, "str | None"]]  # what HTMLParser hands handle_starttag

MAX_DEPTH = 40
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
MARK_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "cite": "italic",
    "u": "underline", "ins": "underline", "s": "strike", "del": "strike", "strike": "strike",
    "code": "code", "kbd": "code", "tt": "code", "samp": "code",
    "sub": "subscript", "sup": "superscript",
}
#: Inline tags kept as marks with their ``title`` (what an abbreviation stands for).
TITLED_MARK_TAGS = {"abbr": "abbr", "dfn": "dfn"}
#: A title longer than this is cut: it is a tooltip, not a place for a document.
MAX_TITLE = 2000
_TEXTBLOCK_TAGS = {"p", "center", "summary", "dt", "dd", "figcaption", "caption", *_HEADINGS}
_SPACE = re.compile(r"[ \t\n\r\f]+")
ALLOWED_TAGS = {
    "a", "img", "br", "hr", "p", "div", "center", "span", "small", "big", "font", "abbr",
    "dfn", "mark", "q", "var", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote",
    "details", "summary", "ul", "ol", "li", "dl", "dt", "dd", "table", "thead", "tbody",
    "tfoot", "tr", "th", "td", "caption", "figure", "figcaption", "picture", *MARK_TAGS,
}
_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "title", "width"},
               "abbr": {"title"}, "dfn": {"title"},
               "ol": {"start"}, "th": {"align", "colspan", "rowspan"},
               "td": {"align", "colspan", "rowspan"}}


def sanitize(html: str) -> str:
    """nh3 with the tags and attributes above; script/style/template content dropped."""
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=_ATTRIBUTES, strip_comments=True,
                     clean_content_tags={"script", "style", "template", "textarea", "select"},
                     link_rel=None, url_schemes={"http", "https", "mailto", "tel"})


def html_blocks(html: str, *, link_ok: LinkOk, link_mark: LinkMark) -> list[Node]:
    """The block nodes of an HTML fragment (see the module's docstring)."""
    builder = _HtmlBuilder(link_ok, link_mark)
    builder.feed(sanitize(html))
    builder.close()
    return builder.finish()


def img_attrs(tag_html: str, link_ok: LinkOk) -> Node | None:
    """The image attrs of one ``<img …>`` tag, or None (no acceptable `src`)."""
    found: list[Node] = []

    class _One(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Attrs) -> None:
            if tag == "img" and not found:
                found.append(_image(dict(attrs), link_ok) or {})

    parser = _One(convert_charrefs=True)
    parser.feed(sanitize(tag_html))
    parser.close()
    return found[0] or None if found else None


def img_sources(html: str, limit: int = 100) -> list[str]:
    """The `src` of the first `limit` `<img>` tags in raw HTML (as written, not sanitised: the
    caller decides what a source may be)."""
    sources: list[str] = []

    class _Images(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Attrs) -> None:
            src = dict(attrs).get("src") if tag == "img" else None
            if src and len(sources) < limit:
                sources.append(src)

    parser = _Images(convert_charrefs=True)
    parser.feed(html[:100_000])
    parser.close()
    return sources


def tag_attr(tag_html: str, name: str) -> str | None:
    """One attribute of the first tag in `tag_html` (sanitised), e.g. an ``<a>``'s href."""
    found: list[str | None] = []

    class _One(HTMLParser):
        def handle_starttag(self, tag: str, attrs: Attrs) -> None:
            if not found:
                found.append(dict(attrs).get(name))

    parser = _One(convert_charrefs=True)
    parser.feed(tag_html[:4000])
    parser.close()
    return found[0] if found else None


def titled_mark(name: str, title: str | None) -> Node:
    """An ``abbr``/``dfn`` mark; its title (a tooltip) bounded by :data:`MAX_TITLE`."""
    return {"type": name, "attrs": {"title": title[:MAX_TITLE] if title else None}}


def _image(attrs: dict[str, str | None], link_ok: LinkOk) -> Node | None:
    src = (attrs.get("src") or "").strip()
    if not src or not link_ok(src):
        return None
    out: Node = {"src": src}
    if attrs.get("alt"):
        out["alt"] = attrs["alt"]
    if attrs.get("title"):
        out["title"] = attrs["title"]
    width = (attrs.get("width") or "").strip().removesuffix("px")
    if width.isdigit() and 0 < int(width) <= 10_000:
        out["width"] = int(width)
    return out


class _HtmlBuilder(HTMLParser):
    def __init__(self, link_ok: LinkOk, link_mark: LinkMark) -> None:
        super().__init__(convert_charrefs=True)
        self.link_ok = link_ok
        self.link_mark = link_mark
        self.root: Node = {"type": "doc", "content": []}
        self.stack: list[tuple[str, Node | None]] = [("#root", self.root)]
        self.block: Node | None = None  # the open text block
        self.block_tag: str | None = None
        self.marks: list[tuple[str, Node]] = []  # (tag, mark)
        self.pre = 0
        self.depth = 0

    # ---- structure

    def _container(self) -> Node:
        for _tag, node in reversed(self.stack):
            if node is not None:
                return node
        return self.root

    def _flush(self) -> None:
        block = self.block
        self.block, self.block_tag = None, None
        if block is None:
            return
        content = block["content"]
        # white space at a block's edges is not shown
        while content and content[0]["type"] == "text" and not content[0]["text"].strip(" "):
            content.pop(0)
        while content and content[-1]["type"] in ("text", "hardBreak") and (
                content[-1]["type"] == "hardBreak" or not content[-1]["text"].strip(" ")):
            content.pop()
        if content and content[0]["type"] == "text":
            content[0] = {**content[0], "text": content[0]["text"].lstrip(" ")}
        if content and content[-1]["type"] == "text":
            content[-1] = {**content[-1], "text": content[-1]["text"].rstrip(" ")}
        if content or block["type"] == "codeBlock":
            self._container()["content"].append(block)

    def _open_block(self, kind: str, tag: str, attrs: Node | None = None) -> Node:
        self._flush()
        self.block = {"type": kind, "content": []}
        if attrs:
            self.block["attrs"] = attrs
        self.block_tag = tag
        return self.block

    def _textblock(self) -> Node:
        if self.block is None:
            container = self._container()
            if container["type"] in ("table", "tableRow", "bulletList", "orderedList"):
                # text straight inside a table or list (stray): a cell or item of its own
                return self._open_block("paragraph", "#implicit")
            self._open_block("paragraph", "#implicit")
        return self.block  # type: ignore[return-value]

    def _push(self, tag: str, node: Node | None) -> None:
        self._flush()
        if node is not None:
            self._container()["content"].append(node)
        self.stack.append((tag, node))

    def _pop(self, tag: str) -> None:
        if not any(t == tag for t, _ in self.stack[1:]):
            return
        self._flush()
        while len(self.stack) > 1:
            t, node = self.stack.pop()
            if node is not None:
                _repair(node)
            if t == tag:
                break

    # ---- parser events

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            return
        if tag in MARK_TAGS:
            self.marks.append((tag, {"type": MARK_TAGS[tag]}))
        elif tag in TITLED_MARK_TAGS:
            self.marks.append((tag, titled_mark(TITLED_MARK_TAGS[tag], values.get("title"))))
        elif tag == "a":
            href = (values.get("href") or "").strip()
            if href and self.link_ok(href):
                self.marks.append(("a", self.link_mark(href, values.get("title"))))
            else:
                self.marks.append(("a", {}))
        elif tag == "img":
            image = _image(values, self.link_ok)
            if image is not None:
                link = next((m for t, m in reversed(self.marks) if t == "a" and m), None)
                if link is not None:
                    image["href"] = link["attrs"]["href"]
                self._textblock()["content"].append({"type": "image", "attrs": image})
        elif tag == "br":
            if self.block is not None:
                self.block["content"].append({"type": "hardBreak"})
        elif tag == "hr":
            self._flush()
            self._container()["content"].append({"type": "horizontalRule"})
        elif tag == "pre":
            self._open_block("codeBlock", "pre")
            self.pre += 1
        elif tag in _HEADINGS:
            self._open_block("heading", tag, {"level": _HEADINGS[tag]})
        elif tag == "summary" and self._container()["type"] == "details":
            self._open_block("detailsSummary", tag)
        elif tag in ("summary", "dt"):
            self._open_block("paragraph", tag)
            self.marks.append(("#" + tag, {"type": "bold"}))
        elif tag in _TEXTBLOCK_TAGS:
            self._open_block("paragraph", tag)
        elif tag == "blockquote":
            self._push(tag, {"type": "blockquote", "content": []})
        elif tag == "details":
            self._push(tag, {"type": "details", "content": []})
        elif tag in ("ul", "ol"):
            node: Node = {"type": "bulletList" if tag == "ul" else "orderedList", "content": []}
            if tag == "ol":
                start = (values.get("start") or "1").strip()
                node["attrs"] = {"start": int(start) if start.isdigit() and len(start) < 9 else 1}
            self._push(tag, node)
        elif tag == "li":
            self._pop_to_list()
            self._push(tag, {"type": "listItem", "content": []})
        elif tag == "table":
            self._push(tag, {"type": "table", "content": []})
        elif tag == "tr":
            if self._in("table"):
                self._pop_until("table")
                self._push(tag, {"type": "tableRow", "content": []})
        elif tag in ("td", "th"):
            if self._in("tr"):
                self._pop_until("tr")
                attrs_: Node = {"colspan": 1, "rowspan": 1}
                if values.get("align") in ("left", "right", "center"):
                    attrs_["align"] = values["align"]
                self._push(tag, {"type": "tableHeader" if tag == "th" else "tableCell",
                                 "content": [], "attrs": attrs_})
        else:  # div, dl, span, figure, thead…: structure only, their text stays
            if tag in ("div", "dl", "figure", "thead", "tbody", "tfoot", "picture"):
                self._flush()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("img", "br", "hr"):
            self.handle_endtag(tag)
        else:
            self.depth -= 1

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("img", "br", "hr"):
            self.depth = max(0, self.depth - 1)
        if tag in MARK_TAGS or tag in TITLED_MARK_TAGS or tag == "a":
            for i in range(len(self.marks) - 1, -1, -1):
                if self.marks[i][0] == tag:
                    del self.marks[i]
                    break
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
            self._flush()
        elif tag in ("summary", "dt"):
            self.marks = [m for m in self.marks if m[0] != "#" + tag]
            self._flush()
        elif tag in _TEXTBLOCK_TAGS:
            if self.block_tag == tag:
                self._flush()
        elif tag in ("blockquote", "details", "ul", "ol", "li", "table", "tr", "td", "th"):
            self._pop(tag)
        elif tag in ("div", "dl", "figure"):
            self._flush()

    def handle_data(self, data: str) -> None:
        if not data:
            return
        if self.pre and self.block is not None and self.block["type"] == "codeBlock":
            self._add_text(data, code_block=True)
            return
        text = _SPACE.sub(" ", data)
        if self.block is None and not text.strip():
            return
        self._add_text(text)

    def _add_text(self, text: str, code_block: bool = False) -> None:
        block = self._textblock()
        content = block["content"]
        if code_block:
            if content:
                content[0]["text"] += text
            else:
                content.append({"type": "text", "text": text.removeprefix("\n")})
            return
        marks = _sorted_marks([m for _t, m in self.marks if m])
        if content and content[-1]["type"] == "text" and content[-1].get("marks", []) == marks:
            content[-1]["text"] += text
            return
        if content and content[-1]["type"] == "text" and content[-1]["text"].endswith(" ") \
                and text.startswith(" "):
            text = text[1:]
        node: Node = {"type": "text", "text": text}
        if marks:
            node["marks"] = marks
        if text:
            content.append(node)

    # ---- helpers

    def _in(self, tag: str) -> bool:
        return any(t == tag for t, _ in self.stack)

    def _pop_until(self, tag: str) -> None:
        self._flush()
        while len(self.stack) > 1 and self.stack[-1][0] != tag:
            _t, node = self.stack.pop()
            if node is not None:
                _repair(node)

    def _pop_to_list(self) -> None:
        if self._in("ul") or self._in("ol"):
            while len(self.stack) > 1 and self.stack[-1][0] not in ("ul", "ol"):
                _t, node = self.stack.pop()
                if node is not None:
                    _repair(node)
        else:  # a stray <li>: a list of its own
            self._push("ul", {"type": "bulletList", "content": []})

    def finish(self) -> list[Node]:
        self._flush()
        while len(self.stack) > 1:
            _t, node = self.stack.pop()
            if node is not None:
                _repair(node)
        return [n for n in self.root["content"] if _keep(n)]


_MARK_RANK = ("link", "bold", "italic", "strike", "code", "underline", "subscript", "superscript",
              "abbr", "dfn")


def _sorted_marks(marks: list[Node]) -> list[Node]:
    seen: dict[str, Node] = {}
    for mark in marks:
        seen.setdefault(mark["type"], mark)  # the innermost link wins below
    links = [m for m in marks if m["type"] == "link"]
    if links:
        seen["link"] = links[-1]
    if "code" in seen:  # a code span holds no other formatting but its link
        seen = {k: v for k, v in seen.items() if k in ("code", "link")}
    return sorted(seen.values(), key=lambda m: _MARK_RANK.index(m["type"])
                  if m["type"] in _MARK_RANK else 99)


def _keep(node: Node) -> bool:
    return node["type"] in ("horizontalRule", "codeBlock") or bool(node.get("content"))


def _repair(node: Node) -> None:
    """Make a finished container valid for the editor's schema."""
    kind = node["type"]
    content = [c for c in node["content"] if _keep(c)]
    if kind in ("bulletList", "orderedList"):
        content = [c if c["type"] == "listItem" else {"type": "listItem", "content": [c]}
                   for c in content]
    elif kind == "listItem" or kind in ("tableCell", "tableHeader"):
        if not content or content[0]["type"] != "paragraph":
            content.insert(0, {"type": "paragraph", "content": []})
        if kind != "listItem":
            content = [c for c in content if c["type"] == "paragraph"] or content[:1]
    elif kind == "tableRow":
        content = [c for c in content if c["type"] in ("tableCell", "tableHeader")]
    elif kind == "table":
        content = [c for c in content if c["type"] == "tableRow" and c["content"]]
        width = max((len(r["content"]) for r in content), default=0)
        for row in content:  # a rectangle, as the editor's tables are
            while len(row["content"]) < width:
                row["content"].append({"type": "tableCell", "attrs": {"colspan": 1, "rowspan": 1},
                                       "content": [{"type": "paragraph", "content": []}]})
    elif kind == "blockquote" and not content:
        content = []
    elif kind == "details":
        content = details_shape(content)
    node["content"] = content


def details_shape(children: list[Node]) -> list[Node]:
    """The content of a ``details`` node from what was read inside ``<details>``: its first
    ``detailsSummary`` (text with marks only: a break is a space, an image its alt text)
    and a ``detailsContent`` of everything else (never empty, as the editor wants)."""
    summary: Node | None = None
    body: list[Node] = []
    for child in children:
        if child["type"] == "detailsSummary" and summary is None:
            summary = child
        elif child["type"] == "detailsSummary":
            body.append({"type": "paragraph", "content": child.get("content", [])})
        elif child["type"] != "paragraph" or child.get("content"):
            body.append(child)
    text: list[Node] = []
    for inline in (summary or {}).get("content", []):
        if inline["type"] == "text":
            text.append(inline)
        elif inline["type"] == "hardBreak":
            text.append({"type": "text", "text": " "})
        elif inline["type"] == "image" and (inline.get("attrs") or {}).get("alt"):
            text.append({"type": "text", "text": str(inline["attrs"]["alt"])})
    return [{"type": "detailsSummary", "content": text},
            {"type": "detailsContent", "content": body or [{"type": "paragraph", "content": []}]}]
