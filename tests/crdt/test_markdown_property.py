"""Property test: random documents of the editor's schema survive export -> import.

What must survive: every character of text, the marks on every non-whitespace character
(whitespace at the edge of bold/italic/strike may lose that mark: it is moved outside
the delimiters), link hrefs and titles, node types and nesting, heading levels, list
starts, task states, code languages, image attributes. What may not (documented in
crdt/markdown_export.py): empty paragraphs.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.markdown import export_markdown, fragment_to_json, import_markdown

Node = dict[str, Any]

# ---- strategies ---------------------------------------------------------------------------

_SPECIAL = "ab *_`[]\\<>&#|~!-+=.1():;\"'/x"
_unicode = st.characters(
    categories=("L", "N", "P", "S", "Zs"), exclude_characters="\n\r\x0b\x0c\x85\u2028\u2029"
)
TEXT = st.one_of(
    st.text(alphabet=_SPECIAL, min_size=1, max_size=10),
    st.text(alphabet=_unicode, min_size=1, max_size=10),
    st.sampled_from(["&amp;", "<div>", "snake_case", "**x**", "1. a", "# h", "- x", "\t", "  "]),
)
HREF = st.sampled_from(
    [
        "https://ex.com",
        "/a_b",
        "https://ex.com/a b",
        "x(y)",
        "a)b",
        "",
        "mailto:me@ex.com",
        "?q=1&amp;x",
    ]
)
TITLE = st.one_of(st.none(), st.sampled_from(["t", 'say "hi"', "back\\slash", "&copy;"]))
SIMPLE_MARKS = ["bold", "italic", "strike", "code", "underline"]


@st.composite
def marks(draw: st.DrawFn) -> dict:
    chosen = draw(st.sets(st.sampled_from(SIMPLE_MARKS), max_size=3))
    result: dict = {name: {} for name in chosen}
    if draw(st.booleans()) and draw(st.booleans()):
        result["link"] = {
            "href": draw(HREF),
            "target": "_blank",
            "rel": "noopener noreferrer nofollow",
            "class": None,
            "title": draw(TITLE),
        }
    return result


@st.composite
def inline(draw: st.DrawFn, breaks: bool = True) -> list[Node]:
    out: list[Node] = []
    for _ in range(draw(st.integers(1, 5))):
        if breaks and draw(st.integers(0, 6)) == 0:
            out.append({"type": "hardBreak"})
        else:
            node: Node = {"type": "text", "text": draw(TEXT)}
            node_marks = draw(marks())
            if node_marks:
                node["marks"] = node_marks
            out.append(node)
    return out


def paragraph(content: list[Node]) -> Node:
    return {"type": "paragraph", "content": content}


@st.composite
def textblock(draw: st.DrawFn) -> Node:
    kind = draw(
        st.sampled_from(["paragraph", "paragraph", "heading", "codeBlock", "rule", "image"])
    )
    if kind == "paragraph":
        return paragraph(draw(inline()))
    if kind == "heading":
        return {
            "type": "heading",
            "attrs": {"level": draw(st.integers(1, 6))},
            "content": draw(inline()),
        }
    if kind == "codeBlock":
        code = draw(st.text(alphabet="ab `~\n\t x<*>#", max_size=20))
        node: Node = {
            "type": "codeBlock",
            "content": [{"type": "text", "text": code}] if code else [],
        }
        lang = draw(st.sampled_from([None, "python", "c++", "js"]))
        if lang:
            node["attrs"] = {"language": lang}
        return node
    if kind == "image":
        attrs = {"src": draw(HREF.filter(bool)), "alt": draw(TEXT)}
        title = draw(TITLE)
        if title:
            attrs["title"] = title
        return paragraph([{"type": "image", "attrs": attrs}])
    return {"type": "horizontalRule"}


@st.composite
def table(draw: st.DrawFn) -> Node:
    cols = draw(st.integers(1, 3))
    rows = []
    for r in range(draw(st.integers(1, 3))):
        cells = []
        for _ in range(cols):
            cell_attrs = {"colspan": 1, "rowspan": 1}
            content = draw(st.one_of(st.just([]), inline()))
            cells.append(
                {
                    "type": "tableHeader" if r == 0 else "tableCell",
                    "attrs": cell_attrs,
                    "content": [paragraph(content)],
                }
            )
        rows.append({"type": "tableRow", "content": cells})
    return {"type": "table", "content": rows}


@st.composite
def blocks(draw: st.DrawFn, depth: int = 0) -> list[Node]:
    out = []
    for _ in range(draw(st.integers(1, 3))):
        choice = draw(st.integers(0, 9 if depth < 3 else 3))
        if choice <= 3:
            out.append(draw(textblock()))
        elif choice == 4:
            out.append(draw(table()))
        elif choice == 5:
            out.append({"type": "blockquote", "content": draw(blocks(depth + 1))})
        else:
            kind = draw(st.sampled_from(["bulletList", "orderedList", "taskList"]))
            items = []
            for _ in range(draw(st.integers(1, 3))):
                first = paragraph(draw(st.one_of(st.just([]), inline())))
                rest = draw(st.one_of(st.just([]), blocks(depth + 2)))
                item: Node = {"type": "taskItem" if kind == "taskList" else "listItem"}
                item["content"] = [first, *rest]
                if kind == "taskList":
                    item["attrs"] = {"checked": draw(st.booleans())}
                items.append(item)
            node: Node = {"type": kind, "content": items}
            if kind == "orderedList":
                node["attrs"] = {"start": draw(st.integers(0, 12))}
            out.append(node)
    return out


# ---- building and comparing ---------------------------------------------------------------


def write(parent: XmlFragment | XmlElement, content: list[Node]) -> None:
    text: XmlText | None = None
    for node in content:
        if node["type"] == "text":
            if text is None:
                text = parent.children.append(XmlText())
            text.insert(len(text), node["text"], node.get("marks") or None)
        else:
            text = None
            element = parent.children.append(XmlElement(node["type"], node.get("attrs") or None))
            write(element, node.get("content", []))


def build(content: list[Node]) -> Doc:
    doc = Doc()
    with doc.transaction():
        write(doc.get("default", type=XmlFragment), content)
    return doc


_DELIMITED = {"bold", "italic", "strike"}


def semantic(node: Node) -> Any:
    """What must survive: structure, attrs that matter, text with per-character marks."""
    kind = node["type"]
    content = node.get("content", [])
    if any(c["type"] in ("text", "hardBreak") for c in content) or kind in ("paragraph", "heading"):
        chars = []
        for child in content:
            if child["type"] == "hardBreak":
                chars.append(("\n", frozenset()))
                continue
            if child["type"] == "image":
                attrs = child["attrs"]
                chars.append((("image", attrs["src"], attrs.get("alt") or "",
                               attrs.get("title") or ""), frozenset()))
                continue
            keys = set()
            for mark in child.get("marks", []):
                if mark["type"] == "link":
                    attrs = mark["attrs"]
                    keys.add(("link", attrs["href"], attrs.get("title") or ""))
                else:
                    keys.add((mark["type"],))
            for ch in child["text"]:
                if ch.isspace():
                    chars.append((ch, frozenset(k for k in keys if k[0] not in _DELIMITED)))
                else:
                    chars.append((ch, frozenset(keys)))
        attrs = node.get("attrs", {})
        return (kind, attrs.get("level"), attrs.get("language"), tuple(chars))
    attrs = dict(node.get("attrs", {}))
    # spacing: a list's tight/loose look, which an export may have to change (an item of two
    # paragraphs is loose in Markdown); test_markdown_roundtrip pins it on real lists
    for key in ("colspan", "rowspan", "colwidth", "align", "spacing"):
        attrs.pop(key, None)
    children = [
        semantic(c) for c in content if not (c["type"] == "paragraph" and not c.get("content"))
    ]
    return (kind, tuple(sorted(attrs.items())), tuple(children))


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(blocks())
def test_export_then_import_keeps_text_marks_and_nesting(content: list[Node]) -> None:
    original = build(content)
    markdown = export_markdown(original)
    again = Doc()
    import_markdown(markdown, again)
    before = semantic(fragment_to_json(original))
    after = semantic(fragment_to_json(again))
    assert after == before, markdown
    # after one round (which drops empty paragraphs) export and import are a fixpoint
    markdown2 = export_markdown(again)
    third = Doc()
    import_markdown(markdown2, third)
    assert fragment_to_json(third) == fragment_to_json(again), markdown2
    assert export_markdown(third) == markdown2
