"""Markdown -> ProseMirror-like JSON, in the exact shape Tiptap 3 keeps in the Y.Doc.

Parsing is markdown-it-py's CommonMark parser with GFM tables, strikethrough and task
lists (mdit-py-plugins), plus footnotes (kept as literal ``[^label]`` text) so that a
GFM footnote definition is not mistaken for a link reference definition.

Shapes produced (they mirror what y-tiptap writes: every non-null node attr, defaults
included; null attrs omitted):

* ``paragraph``, ``heading{level}``, ``blockquote``, ``horizontalRule``, ``hardBreak``
* ``details`` (``detailsSummary detailsContent``) from ``<details>``, also when its body is
  Markdown between an opening ``<details><summary>…</summary>`` and a closing ``</details>``
* ``bulletList``, ``orderedList{start}``, ``listItem`` (``paragraph block*``)
* ``taskList``, ``taskItem{checked}`` (``paragraph block*``)
* ``codeBlock{language?}`` holding one text node without marks
* ``table``/``tableRow``/``tableHeader``/``tableCell{colspan, rowspan, align?}``; each cell
  holds a paragraph
* ``image{src, alt?, title?}`` as an *inline* node (the editor's Image is inline): where the
  Markdown has it, in a paragraph, heading or table cell; a picture on its own line is a
  paragraph holding only the image
* marks ``bold``, ``italic``, ``strike``, ``code``, ``underline``, ``link{href, target,
  rel, class, title}`` (Tiptap's link defaults), ``abbr{title}`` and ``dfn{title}``

Raw HTML never becomes markup: an HTML block becomes a paragraph of literal text, inline
HTML stays literal text, except these attribute-less tags, which the exporter itself
emits: ``<u>``/``<ins>`` (underline), ``<strong>``/``<b>``, ``<em>``/``<i>``,
``<del>``/``<s>``, ``<sub>``, ``<sup>``, ``<abbr title>``, ``<dfn title>`` (only as matched
open/close pairs) and ``<br>`` (hard break).
Links whose destination markdown-it rejects (``javascript:`` and friends) stay text.

Depth is bounded: from :data:`MAX_DEPTH` nested containers on, the rest of that
container is kept as one paragraph of literal text (so a 1000-deep quote cannot exhaust
the stack and loses no text).
"""

from __future__ import annotations

import html
import re
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.common.utils import unescapeAll
from markdown_it.rules_block import StateBlock, html_block
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin
from mdit_py_plugins.tasklists import tasklists_plugin

from . import markdown_rules
from .budget import Deadline
from .markdown_critic import critic_marks
from .markdown_html import (
    MARK_TAGS,
    TITLED_MARK_TAGS,
    details_shape,
    html_blocks,
    img_attrs,
    tag_attr,
    titled_mark,
)

Node = dict[str, Any]

#: Containers nested deeper than this are flattened into literal text.
MAX_DEPTH = 50

#: Tiptap's defaults for a link mark (Link extension, HTMLAttributes).
LINK_DEFAULTS: dict[str, Any] = {
    "target": "_blank",
    "rel": "noopener noreferrer nofollow",
    "class": None,
}

#: Stable order of marks in JSON output (link first, as ProseMirror ranks it).
MARK_ORDER = ("link", "bold", "italic", "strike", "code", "underline", "subscript", "superscript",
              "abbr", "dfn")

#: Inline HTML tags read as marks when they come in matched pairs (crdt/markdown_html.py).
_HTML_MARK_TAGS = {**MARK_TAGS, **TITLED_MARK_TAGS}
_HTML_TAG_RE = re.compile(r"^<(/?)([A-Za-z][A-Za-z0-9]*)(?:\s[^>]*)?/?>$", re.S)
_HTML_BR_RE = re.compile(r"^<br\s*/?>$", re.IGNORECASE)
_HTML_BRS_RE = re.compile(r"^(?:\s*<br\s*/?>)+\s*$", re.IGNORECASE)
_ALIGN_RE = re.compile(r"text-align:\s*(left|right|center)")
_DETAILS_OPEN_RE = re.compile(
    r"^\s*<details\b[^>]*>\s*(?:<summary\b[^>]*>(.*?)</summary>)?\s*$", re.I | re.S)
_DETAILS_CLOSE_RE = re.compile(r"^\s*</details\s*>\s*$", re.I)
_TASK_ONLY_RE = re.compile(r"^\[([ xX])\]$")
_FRONT_MATTER_LINE_RE = re.compile(r"^(?:[A-Za-z_][\w-]*\s*:.*|\s+\S.*|#.*)$")


def mark_sort_key(mark: Node) -> tuple[int, str]:
    """Order marks deterministically (known marks by rank, then by name)."""
    name = mark["type"]
    rank = MARK_ORDER.index(name) if name in MARK_ORDER else len(MARK_ORDER)
    return (rank, name)


def link_mark(href: str, title: str | None) -> Node:
    """A link mark with Tiptap's default attributes."""
    return {"type": "link", "attrs": {"href": href, **LINK_DEFAULTS, "title": title or None}}


def _depth_guard(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Keep everything from MAX_DEPTH containers down as one literal paragraph."""
    if state.level < MAX_DEPTH:
        return False
    if silent:
        return True
    text = state.getLines(start_line, end_line, state.blkIndent, False).strip()
    token = state.push("paragraph_open", "p", 1)
    token.map = [start_line, end_line]
    token = state.push("inline", "", 0)
    token.content = text
    token.map = [start_line, end_line]
    token.children = []
    state.push("paragraph_close", "p", -1)
    state.line = end_line
    return True


def _html_block_unless_breaks(
    state: StateBlock, start_line: int, end_line: int, silent: bool
) -> bool:
    start = state.bMarks[start_line] + state.tShift[start_line]
    line = state.src[start : state.eMarks[start_line]]
    if _HTML_BRS_RE.match(line):
        return False
    return html_block(state, start_line, end_line, silent)


def _critic_marker(state: Any, silent: bool) -> bool:
    """CriticMarkup's ``{~~``/``~~}`` (and the others) as plain text, so that strikethrough does
    not take their tildes; crdt/markdown_critic.py reads the markers afterwards."""
    src, pos = state.src, state.pos
    size = 0
    if src.startswith(("{++", "{--", "{~~", "++}", "--}", "~~}"), pos):
        size = 3
    elif src.startswith("~~", pos) and pos > 0 and src[pos - 1] == "{":
        size = 2
    if not size:
        return False
    if not silent:
        state.push("text", "", 0).content = src[pos:pos + size]
    state.pos += size
    return True


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": MAX_DEPTH + 50})
    md.enable(["table", "strikethrough"])
    md.use(tasklists_plugin)
    md.use(footnote_plugin)
    md.block.ruler.before("table", "quire_depth_guard", _depth_guard)
    md.inline.ruler.before("strikethrough", "critic_marker", _critic_marker)
    # A line of only <br> tags would open an HTML block (CommonMark type 7) and swallow
    # the following lines as literal text; the exporter writes such lines for
    # paragraphs made of hard breaks, so read them as a paragraph instead.
    md.block.ruler.at(
        "html_block",
        _html_block_unless_breaks,
        {"alt": ["paragraph", "reference", "blockquote"]},
    )
    # Keep link destinations exactly as written (no percent-encoding): the document
    # stores what the author typed, as Tiptap does. validateLink still rejects
    # javascript:, vbscript:, file: and non-image data: URLs.
    md.normalizeLink = lambda url: url  # type: ignore[method-assign]
    # time budget checks, and linear replacements for markdown-it's quadratic corners
    markdown_rules.install(md)
    return md


_MD = _make_parser()


def validate_link(url: str) -> bool:
    """markdown-it's own check: False for javascript:, vbscript:, file:, non-image data:."""
    return bool(_MD.validateLink(url))


def parse_markdown(text: str, deadline: Deadline | None = None) -> list[Node]:
    """Parse Markdown into a list of top-level block nodes (ProseMirror JSON).

    A leading YAML front matter block (``---`` ... ``---`` of ``key: value`` lines) is
    dropped. Raises ``TypeError`` / ``AttributeError`` for non-``str`` input, and
    ``BudgetExceeded`` once `deadline` has passed.
    """
    text = _strip_front_matter(text)
    env = {markdown_rules.ENV_DEADLINE: deadline}
    return _Builder(_MD.parse(text, env), deadline).build()


def parse_inline(src: str, deadline: Deadline | None = None) -> list[Node]:
    """Parse one paragraph's inline Markdown into inline nodes (text/hardBreak/image)."""
    tokens = _MD.parseInline(src, {markdown_rules.ENV_DEADLINE: deadline})
    children = tokens[0].children if tokens and tokens[0].children else []
    return inline_nodes(children)


def _strip_front_matter(text: str) -> str:
    """Drop ``---``/``key: value`` lines/``---`` at the very start (no blank lines inside)."""
    if not text.startswith(("---\n", "---\r\n")):
        return text
    lines = text.splitlines(keepends=True)
    has_key = False
    for i in range(1, len(lines)):
        line = lines[i].rstrip("\r\n")
        if line in ("---", "..."):
            return "".join(lines[i + 1 :]) if has_key else text
        if not _FRONT_MATTER_LINE_RE.match(line):
            return text
        has_key = has_key or not line[:1].isspace() and not line.startswith("#")
    return text


# --------------------------------------------------------------------------- inline


def _html_mark_pairs(children: list[Token]) -> dict[int, tuple[str, int]]:
    """Indices of matched whitelisted inline HTML tags -> (mark, +1 open / -1 close)."""
    found: dict[int, tuple[str, int]] = {}
    open_at: dict[str, list[int]] = {}
    for i, tok in enumerate(children):
        if tok.type != "html_inline":
            continue
        m = _HTML_TAG_RE.match(tok.content)
        if not m or m.group(2).lower() not in _HTML_MARK_TAGS:
            continue
        mark = _HTML_MARK_TAGS[m.group(2).lower()]
        if not m.group(1):
            open_at.setdefault(mark, []).append(i)
        elif open_at.get(mark):
            start = open_at[mark].pop()
            found[start] = (mark, 1)
            found[i] = (mark, -1)
    return found


def _plain_text(tokens: list[Token]) -> str:
    out = []
    for tok in tokens:
        if tok.type in ("text", "text_special", "code_inline"):
            out.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            out.append(" ")
        elif tok.type == "image":
            out.append(_plain_text(tok.children or []))
    return "".join(out)


def inline_nodes(children: list[Token]) -> list[Node]:
    """Turn markdown-it inline tokens into ProseMirror inline nodes with marks."""
    counts: dict[str, int] = {}
    links: list[Node] = []
    html_links: list[bool] = []  # <a> tags open in this paragraph: did each open a link?
    html_pairs = _html_mark_pairs(children)
    titled: dict[str, list[Node]] = {}  # open <abbr title>/<dfn title> marks, innermost last
    out: list[Node] = []
    # text of each text node in `out`, joined at the end (`+=` on a dict value copies the
    # whole string each time: a long paragraph of short lines took quadratic time)
    texts: list[tuple[Node, list[str]]] = []

    def marks(extra: str | None = None) -> list[Node]:
        result = [{"type": name} for name, n in counts.items() if n > 0]
        if extra:
            result.append({"type": extra})
        if links:
            result.append(links[-1])
        result.extend(stack[-1] for stack in titled.values() if stack)
        return sorted(result, key=mark_sort_key)

    def add_text(text: str, extra: str | None = None) -> None:
        if not text:
            return
        node_marks = marks(extra)
        if out and out[-1]["type"] == "text" and out[-1].get("marks", []) == node_marks:
            texts[-1][1].append(text)
            return
        node: Node = {"type": "text", "text": text}
        if node_marks:
            node["marks"] = node_marks
        out.append(node)
        texts.append((node, [text]))

    simple = {"strong": "bold", "em": "italic", "s": "strike"}
    for i, tok in enumerate(children):
        kind = tok.type
        if kind in ("text", "text_special"):
            add_text(tok.content)
        elif kind == "code_inline":
            add_text(tok.content, "code")
        elif kind == "softbreak":
            add_text(" ")
        elif kind == "hardbreak":
            out.append({"type": "hardBreak"})
        elif kind.endswith("_open") and kind[:-5] in simple:
            name = simple[kind[:-5]]
            counts[name] = counts.get(name, 0) + 1
        elif kind.endswith("_close") and kind[:-6] in simple:
            name = simple[kind[:-6]]
            counts[name] = counts.get(name, 0) - 1
        elif kind == "link_open":
            links.append(link_mark(str(tok.attrs.get("href", "")), tok.attrs.get("title")))  # type: ignore[arg-type]
        elif kind == "link_close":
            if links:
                links.pop()
        elif kind == "image":
            attrs: Node = {"src": str(tok.attrs.get("src", ""))}
            alt = _plain_text(tok.children or [])
            if alt:
                attrs["alt"] = alt
            if tok.attrs.get("title"):
                attrs["title"] = str(tok.attrs["title"])
            if links:  # a linked image (a badge): the editor keeps the link on the image
                attrs["href"] = links[-1]["attrs"]["href"]
            out.append({"type": "image", "attrs": attrs})
        elif kind == "html_inline":
            content = tok.content
            tag = _HTML_TAG_RE.match(content)
            name = tag.group(2).lower() if tag else ""
            if i in html_pairs:
                mark, delta = html_pairs[i]
                if mark in TITLED_MARK_TAGS.values():
                    stack = titled.setdefault(mark, [])
                    if delta > 0:
                        stack.append(titled_mark(mark, tag_attr(content, "title")))
                    elif stack:
                        stack.pop()
                else:
                    counts[mark] = counts.get(mark, 0) + delta
            elif _HTML_BR_RE.match(content):
                out.append({"type": "hardBreak"})
            elif name == "img" and not tag.group(1):  # type: ignore[union-attr]
                image = img_attrs(content, validate_link)
                if image is not None:
                    if links:
                        image["href"] = links[-1]["attrs"]["href"]
                    out.append({"type": "image", "attrs": image})
            elif name == "a" and not tag.group(1):  # type: ignore[union-attr]
                href = (tag_attr(content, "href") or "").strip()
                if href and validate_link(href):
                    links.append(link_mark(href, tag_attr(content, "title")))
                    html_links.append(True)
                else:
                    html_links.append(False)
            elif name == "a":
                if html_links and html_links.pop() and links:
                    links.pop()
            elif tag is None and not content.startswith("<!--"):
                # a processing instruction, a declaration, CDATA: its text, sanitised
                add_text(html.unescape(nh3.clean(content, tags=set())))
            # comments and any other tag: dropped (the text between tags stays)
        elif kind == "footnote_ref":
            label = tok.meta.get("label") or str(tok.meta.get("id", 0) + 1)
            add_text(f"[^{label}]")
        # footnote_anchor and anything unknown carry no text
    for node, parts in texts:
        if len(parts) > 1:
            node["text"] = "".join(parts)
    return critic_marks(out)


# --------------------------------------------------------------------------- blocks

_CONTAINERS = {
    "blockquote_open": "blockquote",
    "bullet_list_open": "bulletList",
    "ordered_list_open": "orderedList",
    "list_item_open": "listItem",
    "table_open": "table",
    "tr_open": "tableRow",
    "th_open": "tableHeader",
    "td_open": "tableCell",
}
_TEXTBLOCKS = {"paragraph_open": "paragraph", "heading_open": "heading"}


class _Builder:
    """Walks the flat token stream with an explicit stack (no recursion)."""

    def __init__(self, tokens: list[Token], deadline: Deadline | None = None) -> None:
        self.tokens = tokens
        self.deadline = deadline or Deadline(None)
        self.root: Node = {"type": "doc", "content": []}
        self.stack: list[Node] = [self.root]
        self.footnote_prefix: str | None = None
        self.ignored_details = 0  # <details> openers past MAX_DEPTH, whose </details> go too

    def build(self) -> list[Node]:
        tokens = self.tokens
        tick = self.deadline.tick
        for i, tok in enumerate(tokens):
            tick()
            kind = tok.type
            if kind in _CONTAINERS:
                node: Node = {"type": _CONTAINERS[kind], "content": []}
                if kind == "ordered_list_open":
                    node["attrs"] = {"start": int(tok.attrs.get("start", 1))}
                elif kind == "list_item_open":
                    self._classify_item(node, i)
                elif kind in ("th_open", "td_open"):
                    node["attrs"] = {"colspan": 1, "rowspan": 1}
                    m = _ALIGN_RE.search(str(tok.attrs.get("style", "")))
                    if m:
                        node["attrs"]["align"] = m.group(1)
                    # cells hold inline tokens directly: wrap them in a paragraph
                    self.stack.append(node)
                    self.stack.append({"type": "paragraph", "content": []})
                    continue
                self.stack.append(node)
            elif kind in ("th_close", "td_close"):
                self._close_textblock()
                self._close_container()
            elif kind.endswith("_close") and kind[:-6] + "_open" in _CONTAINERS:
                self._close_details()  # a <details> left open inside this container ends here
                self._close_container()
            elif kind in _TEXTBLOCKS:
                node = {"type": _TEXTBLOCKS[kind], "content": []}
                if kind == "heading_open":
                    node["attrs"] = {"level": int(tok.tag[1:])}
                elif not tok.hidden and self.stack[-1]["type"] in ("listItem", "taskItem") \
                        and len(self.stack) > 2:
                    # a paragraph markdown-it shows as <p> inside an item: the list is loose
                    self.stack[-2].setdefault("attrs", {})["spacing"] = "loose"
                self.stack.append(node)
            elif kind in ("paragraph_close", "heading_close"):
                self._close_textblock()
            elif kind == "inline":
                self.stack[-1]["content"].extend(inline_nodes(tok.children or []))
            elif kind in ("fence", "code_block"):
                self._append(_code_block(tok))
            elif kind == "hr":
                self._append({"type": "horizontalRule"})
            elif kind == "html_block":
                self._html_block(tok.content)
            elif kind == "footnote_open":
                label = tok.meta.get("label") or str(tok.meta.get("id", 0) + 1)
                self.footnote_prefix = f"[^{label}]: "
            elif kind == "footnote_close":
                if self.footnote_prefix is not None:
                    self._append_literal(self.footnote_prefix.rstrip())
                self.footnote_prefix = None
            # thead/tbody/footnote_block open/close: structure only
        self._close_details()
        blocks: list[Node] = self.root["content"]
        return blocks

    # -- helpers

    def _classify_item(self, node: Node, i: int) -> None:
        """Detect a GFM task item; in ordered lists keep the checkbox as text."""
        tokens = self.tokens
        parent_type = self.stack[-1]["type"]
        inline = (
            tokens[i + 2]
            if i + 2 < len(tokens) and tokens[i + 1].type == "paragraph_open"
            else None
        )
        checked: bool | None = None
        if inline is not None and inline.type == "inline":
            children = inline.children or []
            if (
                "task-list-item" in str(tok_class(tokens[i]))
                and children
                and children[0].type == "html_inline"
            ):
                checked = 'checked="checked"' in children[0].content
                if parent_type == "orderedList":
                    children[0] = Token("text", "", 0, content="[x]" if checked else "[ ]")
                    checked = None
                else:
                    del children[0]
                    # Drop the raw whitespace that followed "[ ]" (not a decoded &#32;).
                    raw = inline.content[: len(inline.content) - len(inline.content.lstrip())]
                    if children and children[0].type == "text":
                        text = children[0].content
                        cut = 0
                        while cut < min(len(raw), len(text)) and text[cut] == raw[cut]:
                            cut += 1
                        children[0].content = text[cut:]
                        if not children[0].content:
                            del children[0]
                    if "\n" in raw and children and children[0].type == "softbreak":
                        del children[0]
            elif parent_type == "bulletList":
                m = _TASK_ONLY_RE.match(inline.content)
                if m and len(children) == 1 and children[0].type == "text":
                    checked = m.group(1) != " "
                    inline.children = []
        if checked is not None:
            node["type"] = "taskItem"
            node["attrs"] = {"checked": checked}

    def _append(self, node: Node) -> None:
        self.stack[-1]["content"].append(node)

    def _html_block(self, html: str) -> None:
        """Raw HTML: a safe subset as nodes (crdt/markdown_html.py), comments dropped. A
        ``<details>`` whose body is Markdown arrives in pieces (the opening tag, the Markdown,
        ``</details>``): the pieces open and close a ``details`` around what lies between (up to
        MAX_DEPTH open containers: unclosed openers cannot nest a document without bound)."""
        opening = _DETAILS_OPEN_RE.match(html)
        if opening and "</details" not in html.lower():
            if len(self.stack) >= MAX_DEPTH:
                self.ignored_details += 1
                return
            parsed = html_blocks(f"<details><summary>{opening.group(1) or ''}</summary></details>",
                                 link_ok=validate_link, link_mark=link_mark)
            summary = parsed[0]["content"][0] if parsed and parsed[0]["type"] == "details" \
                else {"type": "detailsSummary", "content": []}
            self.stack.append({"type": "details", "content": [summary], "html": "details"})
            return
        if _DETAILS_CLOSE_RE.match(html):
            if self.ignored_details:
                self.ignored_details -= 1
            elif self.stack[-1].get("html") == "details":
                self._close_container()
            return
        for node in html_blocks(html, link_ok=validate_link, link_mark=link_mark):
            self._append(node)

    def _append_literal(self, text: str) -> None:
        content: list[Node] = []
        for n, line in enumerate(text.split("\n")):
            if n:
                content.append({"type": "hardBreak"})
            if line:
                content.append({"type": "text", "text": line})
        self._append_textblock({"type": "paragraph", "content": content})

    def _close_textblock(self) -> None:
        node = self.stack.pop()
        self._append_textblock(node)

    def _append_textblock(self, node: Node) -> None:
        if self.footnote_prefix is not None and node["type"] == "paragraph":
            prefix = {"type": "text", "text": self.footnote_prefix}
            node["content"].insert(0, prefix)
            self.footnote_prefix = None
        self._append(node)

    def _close_details(self) -> None:
        while len(self.stack) > 1 and self.stack[-1].get("html") == "details":
            self._close_container()

    def _close_container(self) -> None:
        node = self.stack.pop()
        node.pop("html", None)
        if (node.get("attrs") or {}).get("spacing") == "loose" and _loose_anyway(node):
            del node["attrs"]["spacing"]  # implied by the items: one form for one list
            if not node["attrs"]:
                del node["attrs"]
        kind = node["type"]
        content = node["content"]
        if kind in ("listItem", "taskItem") and (not content or content[0]["type"] != "paragraph"):
            content.insert(0, {"type": "paragraph", "content": []})
        elif kind in ("blockquote", "tableHeader", "tableCell") and not content:
            content.append({"type": "paragraph", "content": []})
        elif kind == "details":
            node["content"] = details_shape(content)
        if kind == "bulletList":
            for part in _split_task_runs(node):
                self._append(part)
            return
        self._append(node)


def tok_class(tok: Token) -> str:
    value = tok.attrs.get("class", "")
    return str(value)


def _code_block(tok: Token) -> Node:
    text = tok.content[:-1] if tok.content.endswith("\n") else tok.content
    node: Node = {"type": "codeBlock", "content": []}
    language = unescapeAll(tok.info).strip() if tok.type == "fence" else ""
    if language:
        node["attrs"] = {"language": language}
    if text:
        node["content"].append({"type": "text", "text": text})
    return node


def _loose_anyway(node: Node) -> bool:
    """Would the exporter write this list loose without being told (an item holds more than
    a paragraph and lists)?"""
    from .markdown_export import _tight_item

    return not all(_tight_item(item) for item in node.get("content") or [])


def _split_task_runs(node: Node) -> list[Node]:
    """A Tiptap list holds either listItems or taskItems: split mixed GFM lists."""
    runs: list[Node] = []
    for item in node["content"]:
        kind = "taskList" if item["type"] == "taskItem" else "bulletList"
        if runs and runs[-1]["type"] == kind:
            runs[-1]["content"].append(item)
        else:
            runs.append({"type": kind, "content": [item]})
            if node.get("attrs"):
                runs[-1]["attrs"] = dict(node["attrs"])
    return runs or [node]
