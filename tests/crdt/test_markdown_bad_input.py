"""Hostile or odd Markdown: raw HTML stays text, deep nesting is bounded, empty stays empty."""

from __future__ import annotations

import time

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.markdown import (
    MAX_DEPTH,
    document_text,
    export_markdown,
    fragment_to_json,
    import_markdown,
)


def _import(text: str) -> dict:
    doc = Doc()
    import_markdown(text, doc)
    return fragment_to_json(doc)


def _depth(node: dict) -> int:
    deepest, stack = 0, [(node, 0)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in current.get("content", []))
    return deepest


def _texts(node: dict) -> str:
    out, stack = [], [node]
    while stack:
        current = stack.pop()
        if current["type"] == "text":
            out.append(current["text"])
        stack.extend(reversed(current.get("content", [])))
    return "".join(out)


def test_raw_html_blocks_are_sanitised_into_nodes() -> None:
    """Raw HTML (issue 18, item 10): nh3 removes scripts, handlers and comments; what is
    left of a safe subset becomes nodes, the text of other tags stays as text."""
    src = ('<script>alert("x")</script>\n\n<!-- a note for maintainers -->\n\n'
           '<div onclick="evil()">\n*hi* <span style="x">there</span>\n</div>\n\n'
           '<p align="center"><a href="javascript:alert(1)"><img src="logo.png" '
           'onerror="alert(2)" alt="Logo"></a></p>\n')
    doc = _import(src)
    assert doc["content"] == [
        {"type": "paragraph", "content": [{"type": "text", "text": "*hi* there"}]},
        {"type": "paragraph", "content": [{"type": "image",
                                            "attrs": {"src": "logo.png", "alt": "Logo"}}]},
    ]
    exported = export_markdown(_doc_from(src))
    assert "script" not in exported and "alert" not in exported and "note" not in exported
    assert _import(exported) == doc


def test_inline_html_becomes_marks_images_and_links_or_plain_text() -> None:
    doc = _import('a <img src=x onerror="alert(1)"> <u>under</u> <span>s</span> <em>e</em><br>b '
                  '<!-- hidden --><kbd>Ctrl</kbd> H<sub>2</sub>O x<sup>2</sup> '
                  '<a href="https://ex.com" onclick="y()">site</a> <a href="javascript:z()">no</a>')
    paragraph = doc["content"][0]["content"]
    assert paragraph[0] == {"type": "text", "text": "a "}
    assert paragraph[1] == {"type": "image", "attrs": {"src": "x"}}
    assert {"type": "text", "text": "under", "marks": [{"type": "underline"}]} in paragraph
    assert {"type": "text", "text": " s "} in paragraph
    assert {"type": "text", "text": "e", "marks": [{"type": "italic"}]} in paragraph
    assert {"type": "hardBreak"} in paragraph
    assert {"type": "text", "text": "Ctrl", "marks": [{"type": "code"}]} in paragraph
    assert {"type": "text", "text": "2", "marks": [{"type": "subscript"}]} in paragraph
    assert {"type": "text", "text": "2", "marks": [{"type": "superscript"}]} in paragraph
    site = next(n for n in paragraph if n.get("text") == "site")
    assert site["marks"][0]["attrs"]["href"] == "https://ex.com"
    assert "hidden" not in str(doc) and "javascript" not in str(doc) and "onclick" not in str(doc)
    # an unmatched formatting tag is dropped, its text kept
    assert _texts(_import("<u>open only")) == "open only"


def test_dangerous_link_destinations_stay_text() -> None:
    doc = _import("[x](javascript:alert(1)) [y](data:text/html;base64,AAAA)")
    assert "marks" not in str(doc)
    assert _texts(doc) == "[x](javascript:alert(1)) [y](data:text/html;base64,AAAA)"


def _doc_from(text: str) -> Doc:
    doc = Doc()
    import_markdown(text, doc)
    return doc


def test_deep_blockquotes_are_bounded_and_keep_text() -> None:
    src = "> " * 1000 + "deep text"
    doc = _import(src)
    assert MAX_DEPTH <= _depth(doc) <= MAX_DEPTH + 2
    assert _texts(doc).endswith("deep text")
    exported = export_markdown(_doc_from(src))
    assert _import(exported) == doc


def test_deep_lists_are_bounded_and_keep_text() -> None:
    for src in (
        "- " * 1000 + "item",
        "1. " * 1000 + "item",
        "".join("  " * i + "- x\n" for i in range(300)),
    ):
        doc = _import(src)
        assert _depth(doc) <= MAX_DEPTH + 3
        assert "item" in _texts(doc) or _texts(doc).count("x") == 300


def test_deep_inline_nesting_is_fine() -> None:
    start = time.monotonic()
    for src in (
        "[" * 3000 + "a" + "](b)" * 3000,
        "*" * 5000 + "a" + "*" * 5000,
        "`" * 5000,
        "<" * 5000,
    ):
        doc = _import(src)
        assert _depth(doc) <= 3
    assert time.monotonic() - start < 5


def test_export_of_a_1000_deep_document_is_flattened_not_recursed() -> None:
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        parent = fragment
        for _ in range(1000):
            parent = parent.children.append(XmlElement("blockquote"))
        paragraph = parent.children.append(XmlElement("paragraph"))
        paragraph.children.append(XmlText("bottom"))
    out = export_markdown(doc)
    assert out.rstrip().endswith("bottom")
    assert document_text(doc) == "bottom"
    assert _depth(fragment_to_json(doc)) == 1002
    again = _import(out)
    assert _texts(again).endswith("bottom")  # markers beyond MAX_DEPTH stay as text
    assert _depth(again) <= MAX_DEPTH + 2


def test_empty_and_blank_input() -> None:
    for src in ("", "\n\n", "   \n"):
        doc = Doc()
        import_markdown(src, doc)
        assert fragment_to_json(doc) == {"type": "doc"}
        assert export_markdown(doc) == ""


def test_import_replaces_previous_content() -> None:
    doc = _doc_from("# old\n\nold text")
    import_markdown("new", doc)
    assert document_text(doc) == "new"


def test_front_matter_is_dropped_but_rules_are_not() -> None:
    assert _texts(_import("---\ntitle: x\nauthors:\n  - a\n---\n\nBody")) == "Body"
    doc = _import("---\n\nnot: front matter\n\n---\n")
    assert [b["type"] for b in doc["content"]] == ["horizontalRule", "paragraph", "horizontalRule"]


def test_null_bytes_and_control_characters_do_not_raise() -> None:
    doc = _doc_from("a\x00b\x07c\r\nd\x1b[31m")
    assert "a\ufffdb" in document_text(doc)
    export_markdown(doc)
