"""Real READMEs carry raw HTML (issue 18, item 10): comments are dropped, a safe subset becomes
nodes, the rest is sanitised to its text; loose lists, linked images (badges) and sub/sup
survive an import -> export; each shape is what the editor's schema takes."""

from __future__ import annotations

import pytest
from markdown_it import MarkdownIt
from pycrdt import Doc

from crdt.markdown import export_markdown, fragment_to_json, import_markdown


def _import(text: str) -> list[dict]:
    doc = Doc()
    import_markdown(text, doc)
    return fragment_to_json(doc)["content"]


def _round(text: str) -> str:
    doc = Doc()
    import_markdown(text, doc)
    return export_markdown(doc)


def _html(text: str) -> str:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"]).render(text)


def test_comments_are_dropped_not_shown_as_text():
    blocks = _import("<!-- markdownlint-disable MD033 -->\n\n# Title <!-- inline note -->\n\n"
                     "Text.\n")
    assert blocks == [
        {"type": "heading", "attrs": {"level": 1}, "content": [{"type": "text", "text": "Title "}]},
        {"type": "paragraph", "content": [{"type": "text", "text": "Text."}]},
    ]


def test_a_centered_logo_and_badges_become_linked_images():
    src = ('<p align="center">\n  <a href="https://www.attrs.org/">\n'
           '    <img src="https://ex.com/logo.svg" width="35%" alt="attrs" />\n  </a>\n</p>\n\n'
           "[![CI](https://ex.com/ci.svg)](https://ex.com/actions) "
           "[![PyPI](https://ex.com/v.svg)](https://pypi.org/p)\n")
    logo, badges = _import(src)
    assert logo == {"type": "paragraph", "content": [{"type": "image", "attrs": {
        "src": "https://ex.com/logo.svg", "alt": "attrs", "href": "https://www.attrs.org/"}}]}
    assert [n["attrs"].get("href") for n in badges["content"] if n["type"] == "image"] == [
        "https://ex.com/actions", "https://pypi.org/p"]
    exported = _round(src)
    assert exported.endswith("[![CI](https://ex.com/ci.svg)](https://ex.com/actions) "
                             "[![PyPI](https://ex.com/v.svg)](https://pypi.org/p)\n")
    assert "[![attrs](https://ex.com/logo.svg)](https://www.attrs.org/)" in exported


def test_a_row_of_images_in_one_link_stays_one_link():
    src = '<a href="https://ex.com"><img src="a.svg" alt="A"><img src="b.svg" alt="B"></a>\n'
    assert _round(src) == "[![A](a.svg)![B](b.svg)](https://ex.com)\n"


def test_details_around_markdown_become_a_collapsible_and_come_back():
    """FastAPI's README: <details markdown="1"><summary>…</summary>, a Markdown body, then
    </details>. The document holds a details node; the export writes the same three pieces
    (the body as top-level Markdown, as GitHub reads it), so each body block survives."""
    src = ("<details>\n<summary>Or use <code>async def</code>...</summary>\n\n"
           "If your code uses `await`:\n\n```python\nawait x()\n```\n\n</details>\n\nAfter.\n")
    details, after = _import(src)
    assert details["type"] == "details"
    summary, body = details["content"]
    assert summary == {"type": "detailsSummary", "content": [
        {"type": "text", "text": "Or use "},
        {"type": "text", "text": "async def", "marks": [{"type": "code"}]},
        {"type": "text", "text": "..."}]}
    assert body["type"] == "detailsContent"
    para, code = body["content"]
    assert para["content"][1] == {"type": "text", "text": "await", "marks": [{"type": "code"}]}
    assert code["type"] == "codeBlock"
    assert after == {"type": "paragraph", "content": [{"type": "text", "text": "After."}]}
    assert _round(src) == src


def test_details_in_one_html_block_and_without_summary_or_body():
    (details,) = _import("<details><summary>S <b>b</b><br><img src='x.png' alt='X'></summary>"
                         "<p>body</p></details>\n")
    summary, body = details["content"]
    assert summary["content"] == [
        {"type": "text", "text": "S "}, {"type": "text", "text": "b", "marks": [{"type": "bold"}]},
        {"type": "text", "text": " X"}]  # text only, as the editor's summary holds
    assert body["content"] == [{"type": "paragraph", "content": [{"type": "text", "text": "body"}]}]
    (bare,) = _import("<details>\n\n</details>\n")
    assert bare["content"] == [{"type": "detailsSummary"},  # empty nodes have no content key
                               {"type": "detailsContent", "content": [{"type": "paragraph"}]}]
    assert _round("<details>\n\n</details>\n") == "<details>\n<summary></summary>\n\n</details>\n"


@pytest.mark.parametrize("src", [
    "- item\n\n  <details>\n  <summary>S</summary>\n\n  body\n\n  </details>\n",
    "> <details>\n> <summary>In a <a href=\"https://x.org/?a=1&amp;b=2\">quote</a> &amp; "
    "<abbr title=\"t\">T</abbr></summary>\n>\n> x\n>\n> </details>\n",
    "<details>\n<summary>Outer</summary>\n\n<details>\n<summary>Inner</summary>\n\n"
    "deep\n\n</details>\n\n</details>\n",
])
def test_details_round_trip_inside_lists_quotes_and_each_other(src):
    assert _round(src) == src


def test_a_summary_is_html_text_escaped():
    doc = Doc()
    import_markdown("<details><summary>a &lt;b&gt; &amp; c</summary>x</details>\n", doc)
    assert "<summary>a &lt;b&gt; &amp; c</summary>" in export_markdown(doc)


def test_an_html_table_becomes_a_table():
    src = ("<table><tr><th>docs</th><td><a href='https://d.io'>latest</a></td></tr>"
           "<tr><td>tests</td></tr></table>\n")
    (table,) = _import(src)
    assert table["type"] == "table"
    rows = table["content"]
    assert [c["type"] for c in rows[0]["content"]] == ["tableHeader", "tableCell"]
    assert len(rows[1]["content"]) == 2  # made rectangular
    assert rows[0]["content"][1]["content"][0]["content"][0]["marks"][0]["attrs"]["href"] \
        == "https://d.io"


def test_definition_lists_and_unknown_tags_keep_their_text():
    src = ("<dl>\n<dt><code>clientID</code></dt>\n<dd>A <small>unique</small> <abbr "
           "title='identifier'>id</abbr>.</dd>\n</dl>\n")
    term, definition = _import(src)
    assert term["content"] == [{"type": "text", "text": "clientID",
                                "marks": [{"type": "code"}]}]
    assert definition["content"] == [
        {"type": "text", "text": "A unique "},
        {"type": "text", "text": "id", "marks": [{"type": "abbr", "attrs": {"title": "identifier"}}]},
        {"type": "text", "text": "."}]


@pytest.mark.parametrize("markdown", [
    'A <abbr title="Command Line Interface">CLI</abbr> app.',
    "Talks to <abbr title='Also called \"Relational databases\"'>SQL databases</abbr>.",
    'A **<dfn title="also known as components">Dependency Injection</dfn>** system.',
    'Form <dfn title="converting the string">&quot;parsing&quot;</dfn>, and <dfn>terms</dfn>.',
])
def test_abbreviations_and_definitions_keep_their_title_both_ways(markdown):
    """<abbr title>/<dfn title> (FastAPI's and SQLModel's READMEs): the title is the tooltip a
    reader sees; the document keeps it as a mark and the export writes the same tag back."""
    doc = Doc()
    import_markdown(markdown + "\n", doc)
    assert _html(export_markdown(doc)) == _html(markdown + "\n")


def test_a_title_is_bounded_and_cannot_escape_its_tag():
    doc = Doc()
    title = '"><script>x</script>' + "t" * 5000
    import_markdown(f"<p>An <abbr title='{title}'>x</abbr></p>\n", doc)
    (text,) = [n for n in fragment_to_json(doc)["content"][0]["content"] if n.get("marks")]
    assert len(text["marks"][0]["attrs"]["title"]) == 2000
    exported = export_markdown(doc)
    assert "<script>" not in exported and exported.count("<abbr") == 1
    again = Doc()
    import_markdown(exported, again)
    assert fragment_to_json(again) == fragment_to_json(doc)


def test_hostile_html_leaves_only_text():
    src = ('<div><script>alert(1)</script><style>p{}</style><iframe src="x"></iframe>'
           '<img src="javascript:alert(2)"><a href="javascript:alert(3)">click</a>'
           '<svg onload="alert(4)"><text>t</text></svg><form action="/x"><input value="v">'
           "</form>ok</div>\n\n<p><img src=x onerror=alert(5)></p>\n")
    blocks = _import(src)
    text = str(blocks)
    for bad in ("alert", "javascript", "script", "onerror", "iframe", "onload"):
        assert bad not in text
    assert blocks[0] == {"type": "paragraph", "content": [{"type": "text", "text": "clickok"}]}
    assert blocks[1]["content"] == [{"type": "image", "attrs": {"src": "x"}}]


def test_deep_or_endless_html_is_bounded():
    deep = "<div>" * 5000 + "deep" + "</div>" * 5000
    blocks = _import(deep + "\n")
    assert blocks == [{"type": "paragraph", "content": [{"type": "text", "text": "deep"}]}]
    nested = "<blockquote>" * 300 + "q" + "</blockquote>" * 300
    assert "q" in str(_import(nested + "\n"))


def test_loose_lists_stay_loose_and_tight_lists_tight():
    loose = "- one\n\n- two\n\n  1. a\n  2. b\n"
    assert _import(loose)[0]["attrs"] == {"spacing": "loose"}
    assert _html(_round(loose)) == _html(loose)
    tight = "- one\n- two\n"
    assert "attrs" not in _import(tight)[0]
    assert _round(tight) == tight


def test_subscript_and_superscript_round_trip():
    src = "H<sub>2</sub>O and E = mc<sup>2</sup>, keys <kbd>Ctrl</kbd>\n"
    paragraph = _import(src)[0]["content"]
    assert {"type": "text", "text": "2", "marks": [{"type": "subscript"}]} in paragraph
    assert {"type": "text", "text": "2", "marks": [{"type": "superscript"}]} in paragraph
    assert _round(src) == "H<sub>2</sub>O and E = mc<sup>2</sup>, keys `Ctrl`\n"


def test_all_six_heading_levels_survive():
    src = "".join(f"{'#' * n} Level {n}\n\n" for n in range(1, 7))
    assert [b["attrs"]["level"] for b in _import(src)] == [1, 2, 3, 4, 5, 6]
    assert _round(src) == src.rstrip("\n") + "\n"


def test_suggestions_deep_in_quotes_export_in_all_three_forms():
    src = "> " * 45 + "keep {++new ++}{--old --}end\n"
    assert _round(src) == "> " * 45 + "keep old end\n"
    doc = Doc()
    import_markdown(src, doc)
    assert export_markdown(doc, suggestions="accept").endswith("keep new end\n")
    assert export_markdown(doc, suggestions="critic").endswith("keep {++new ++}{--old --}end\n")
