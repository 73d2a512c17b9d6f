"""Golden tests, export direction: documents built with pycrdt in Tiptap 3's exact shape."""

from __future__ import annotations

from typing import Any

import pytest
import yaml  # PyYAML: locked with uvicorn[standard]
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.markdown import document_text, export_markdown, fragment_to_json

# ---- a tiny builder writing what y-tiptap writes -----------------------------------------
# E("paragraph", T("plain"), T("bold", bold={}), E("hardBreak")) ...


class T:
    def __init__(self, text: str, **marks: Any) -> None:
        self.text = text
        self.marks = marks


class E:
    def __init__(self, tag: str, *children: Any, **attrs: Any) -> None:
        self.tag = tag
        self.children = children
        self.attrs = attrs


def _fill(parent: XmlFragment | XmlElement, children: tuple) -> None:
    text: XmlText | None = None
    for child in children:
        if isinstance(child, str):
            child = T(child)
        if isinstance(child, T):
            if text is None:
                text = parent.children.append(XmlText())
            text.insert(len(text), child.text, child.marks or None)
        else:
            text = None
            element = parent.children.append(XmlElement(child.tag, child.attrs or None))
            _fill(element, child.children)


def build(*blocks: E) -> Doc:
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        _fill(fragment, blocks)
    return doc


def P(*children: Any) -> E:
    return E("paragraph", *children)


def LI(*children: Any) -> E:
    return E("listItem", *children)


def link(href: str, title: str | None = None) -> dict:
    return {
        "href": href,
        "target": "_blank",
        "rel": "noopener noreferrer nofollow",
        "class": None,
        "title": title,
    }


def md(*blocks: E, **kwargs: Any) -> str:
    return export_markdown(build(*blocks), **kwargs)


# ---- blocks -------------------------------------------------------------------------------


def test_empty_document_exports_to_empty_string() -> None:
    assert export_markdown(Doc()) == ""
    assert md(P()) == ""  # Tiptap's trailing empty paragraph
    assert document_text(Doc()) == ""


def test_paragraphs() -> None:
    assert md(P("One."), P("Two.")) == "One.\n\nTwo.\n"


def test_headings_cast_float_levels() -> None:
    out = md(
        E("heading", "Top", level=1.0), E("heading", "Sub", level=2.0), E("heading", "Six", level=6)
    )
    assert out == "# Top\n\n## Sub\n\n###### Six\n"


def test_hard_break() -> None:
    assert md(P("line one", E("hardBreak"), "line two")) == "line one\\\nline two\n"


def test_hard_break_in_heading_is_br() -> None:
    assert md(E("heading", "a", E("hardBreak"), "b", level=2)) == "## a<br>b\n"


def test_horizontal_rule() -> None:
    assert md(P("a"), E("horizontalRule"), P("b")) == "a\n\n---\n\nb\n"


def test_code_block_with_language() -> None:
    out = md(E("codeBlock", 'print("hi")\n\nx = 1', language="python"))
    assert out == '```python\nprint("hi")\n\nx = 1\n```\n'


def test_code_block_fence_longer_than_backticks_inside() -> None:
    out = md(E("codeBlock", "```\ninner\n````"))
    assert out == "`````\n```\ninner\n````\n`````\n"


def test_code_block_without_language_and_empty() -> None:
    assert md(E("codeBlock", "x")) == "```\nx\n```\n"
    assert md(E("codeBlock")) == "```\n```\n"


def test_image() -> None:
    out = md(E("image", src="https://ex.com/a b.png", alt="An [x]", title='say "hi"'))
    assert out == '![An \\[x\\]](<https://ex.com/a b.png> "say \\"hi\\"")\n'


# ---- lists --------------------------------------------------------------------------------


def test_bullet_list_nested_three_deep() -> None:
    out = md(
        E(
            "bulletList",
            LI(P("one"), E("bulletList", LI(P("two"), E("bulletList", LI(P("three")))))),
            LI(P("four")),
        )
    )
    assert out == "- one\n  - two\n    - three\n- four\n"


def test_ordered_list_with_start_number() -> None:
    out = md(E("orderedList", LI(P("c")), LI(P("d")), start=3.0))
    assert out == "3. c\n4. d\n"


def test_ordered_list_wide_markers_indent_continuations() -> None:
    items = [LI(P(str(i))) for i in range(9, 11)]
    items[-1] = LI(P("ten"), E("bulletList", LI(P("sub"))))
    out = md(E("orderedList", *items, start=9))
    assert out == "9. 9\n10. ten\n    - sub\n"


def test_task_list_nested() -> None:
    out = md(
        E(
            "taskList",
            E(
                "taskItem",
                P("todo"),
                E("taskList", E("taskItem", P("sub"), checked=True)),
                checked=False,
            ),
            E("taskItem", P("done"), checked=True),
        )
    )
    assert out == "- [ ] todo\n  - [x] sub\n- [x] done\n"


def test_loose_list_when_item_has_two_paragraphs() -> None:
    out = md(E("bulletList", LI(P("a"), P("a2")), LI(P("b"))))
    assert out == "- a\n\n  a2\n\n- b\n"


def test_adjacent_lists_alternate_markers() -> None:
    out = md(
        E("bulletList", LI(P("a"))),
        E("bulletList", LI(P("b"))),
        E("orderedList", LI(P("c")), start=1),
        E("orderedList", LI(P("d")), start=1),
    )
    assert out == "- a\n\n* b\n\n1. c\n\n1) d\n"


def test_list_item_with_code_block_and_quote() -> None:
    out = md(
        E(
            "bulletList",
            LI(P("a"), E("codeBlock", "x\n\ny", language="sh"), E("blockquote", P("q"))),
        )
    )
    assert out == "- a\n\n  ```sh\n  x\n\n  y\n  ```\n\n  > q\n"


def test_empty_list_items() -> None:
    assert md(E("bulletList", LI(P()), LI(P("b")))) == "-\n- b\n"
    assert md(E("taskList", E("taskItem", P(), checked=False))) == "- [ ]\n"


# ---- blockquotes --------------------------------------------------------------------------


def test_blockquote_nested_with_list() -> None:
    out = md(
        E(
            "blockquote",
            P("outer"),
            E("blockquote", P("inner"), E("bulletList", LI(P("item")))),
        )
    )
    assert out == "> outer\n>\n> > inner\n> >\n> > - item\n"


# ---- marks --------------------------------------------------------------------------------


def test_bold_italic_strike_underline() -> None:
    out = md(
        P(
            T("b", bold={}),
            " ",
            T("i", italic={}),
            " ",
            T("s", strike={}),
            " ",
            T("u", underline={}),
        )
    )
    assert out == "**b** *i* ~~s~~ <u>u</u>\n"


def test_overlapping_marks_nest() -> None:
    out = md(P(T("bold ", bold={}), T("both", bold={}, italic={}), T(" after")))
    assert out == "**bold *both*** after\n"


def test_whitespace_at_mark_edges_moves_outside() -> None:
    out = md(P("a", T(" bold ", bold={}), "b", T(" it", italic={})))
    assert out == "a **bold** b *it*\n"


def test_inline_code_with_backticks_inside() -> None:
    out = md(P(T("a`b", code={}), " ", T("``x", code={}), " ", T(" pad ", code={})))
    assert out == "``a`b`` ` ``x ` `  pad  `\n"


def test_code_inside_bold_and_link() -> None:
    out = md(P(T("x", code={}, bold={}), " ", T("y", code={}, link=link("https://e.com"))))
    assert out == "**`x`** [`y`](https://e.com)\n"


def test_link_with_and_without_title() -> None:
    out = md(
        P(
            T("site", link=link("https://ex.com/a_(b)", "The Site")),
            " and ",
            T("plain", link=link("https://ex.com/?q=1&x=2")),
        )
    )
    assert out == '[site](https://ex.com/a_(b) "The Site") and [plain](https://ex.com/?q=1&x=2)\n'


def test_link_spanning_bold_part() -> None:
    out = md(P(T("go ", link=link("/u")), T("now", link=link("/u"), bold={})))
    assert out == "[go **now**](/u)\n"


def test_unsafe_link_keeps_only_text() -> None:
    assert md(P(T("click", link=link("javascript:alert(1)")))) == "click\n"


def test_flanking_failure_falls_back_to_html_tags() -> None:
    # "**Note:**text" is not bold in CommonMark (closing run followed by a letter).
    out = md(P(T("Note:", bold={}), "text"))
    assert out == "<strong>Note:</strong>text\n"


def test_unknown_marks_are_dropped_text_kept() -> None:
    out = md(P(T("hi", highlight={"color": "red"}), T("!", **{"comment--abc": {"threadId": "t"}})))
    assert out == "hi!\n"


# ---- escaping -----------------------------------------------------------------------------


def test_escapes_inline_specials() -> None:
    out = md(P("2*3 [x] `y` a\\b ~z <div> &amp; a|b"))
    assert out == "2\\*3 \\[x\\] \\`y\\` a\\\\b \\~z \\<div> \\&amp; a\\|b\n"


def test_no_escape_for_snake_case_and_lone_dash() -> None:
    out = md(P("snake_case_name - a dash, 1. mid-line, a < b, AT&T"))
    assert out == "snake_case_name - a dash, 1. mid-line, a < b, AT&T\n"


def test_underscores_at_word_edges_escaped() -> None:
    assert md(P("_private and trailing_")) == "\\_private and trailing\\_\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# not a heading", "\\# not a heading"),
        ("> not a quote", "\\> not a quote"),
        ("- not a list", "\\- not a list"),
        ("+ not a list", "\\+ not a list"),
        ("1. not a list", "1\\. not a list"),
        ("2) not a list", "2\\) not a list"),
        ("=== not setext", "\\=== not setext"),
        ("--- not a rule", "\\--- not a rule"),
    ],
)
def test_line_start_markers_escaped(text: str, expected: str) -> None:
    assert md(P(text)) == expected + "\n"
    # also after a hard break, where a new line starts
    assert md(P("x", E("hardBreak"), text)) == "x\\\n" + expected + "\n"


def test_leading_and_trailing_spaces_kept_as_references() -> None:
    assert md(P("  indented  ")) == "&#32;&#32;indented&#32;&#32;\n"


def test_heading_trailing_hash_escaped() -> None:
    assert md(E("heading", "C#", level=2)) == "## C\\#\n"


# ---- tables -------------------------------------------------------------------------------


def _cell(tag: str, *children: Any, **attrs: Any) -> E:
    return E(tag, P(*children), colspan=1, rowspan=1, **attrs)


def test_table_with_alignment_marks_and_pipes() -> None:
    out = md(
        E(
            "table",
            E(
                "tableRow",
                _cell("tableHeader", "Name", align="left"),
                _cell("tableHeader", "Value", align="right"),
            ),
            E(
                "tableRow",
                _cell("tableCell", T("a|b", bold={})),
                _cell("tableCell", T("x|y", code={})),
            ),
            E("tableRow", _cell("tableCell", "one", E("hardBreak"), "two"), _cell("tableCell")),
        )
    )
    assert out == (
        "| Name | Value |\n| :--- | ---: |\n| **a\\|b** | `x\\|y` |\n| one<br>two |  |\n"
    )


def test_table_without_header_row_and_colspan() -> None:
    out = md(
        E(
            "table",
            E("tableRow", E("tableCell", P("a"), colspan=2, rowspan=1, colwidth=[100, 50])),
            E("tableRow", _cell("tableCell", "b"), _cell("tableCell", "c")),
        )
    )
    assert out == "| a |  |\n| --- | --- |\n| b | c |\n"


# ---- footnotes and front matter -----------------------------------------------------------


def test_comment_threads_as_footnotes() -> None:
    doc = build(
        P(
            "See ",
            T("this passage", **{"comment": {"threadId": "t1"}}),
            " and ",
            T("that", bold={}, **{"comment--x9": {"threadId": "t2"}}),
            ".",
        ),
        P(T("again", **{"comment": {"threadId": "t1"}})),
    )
    out = export_markdown(
        doc,
        footnotes=[
            ("t2", ["Why bold?"]),
            ("t1", ["First *point*", "Reply\nsecond line"]),
            ("t3", ["orphan"]),
        ],
    )
    assert out == (
        "See this passage[^1] and **that[^2]**.\n"
        "\n"
        "again[^1]\n"
        "\n"
        "[^1]: First \\*point\\*\n"
        "\n"
        "    Reply\\\n"
        "    second line\n"
        "[^2]: Why bold?\n"
    )


def test_front_matter_is_quoted_yaml() -> None:
    import datetime

    out = md(
        P("Body"),
        frontmatter={
            "title": 'He said: "yes" # not a comment',
            "authors": ["Ann O'Neil", "Bob: the builder"],
            "date": datetime.date(2026, 11, 27),
        },
    )
    assert out == (
        "---\n"
        'title: "He said: \\"yes\\" # not a comment"\n'
        "authors:\n"
        '  - "Ann O\'Neil"\n'
        '  - "Bob: the builder"\n'
        'date: "2026-11-27"\n'
        "---\n"
        "\n"
        "Body\n"
    )
    data = yaml.safe_load(out.split("---\n")[1])
    assert data == {
        "title": 'He said: "yes" # not a comment',
        "authors": ["Ann O'Neil", "Bob: the builder"],
        "date": "2026-11-27",
    }


# ---- JSON and text views ------------------------------------------------------------------


def test_fragment_to_json_shape() -> None:
    doc = build(
        E("heading", "Hi", level=2.0),
        P("a ", T("b", bold={}, link=link("/x")), E("hardBreak"), "c"),
        E("table", E("tableRow", E("tableCell", P("x"), colspan=1, rowspan=1, colwidth=[120.0]))),
    )
    assert fragment_to_json(doc) == {
        "type": "doc",
        "content": [
            {"type": "heading", "attrs": {"level": 2}, "content": [{"type": "text", "text": "Hi"}]},
            {
                "type": "paragraph",
                "content": [
                    {"type": "text", "text": "a "},
                    {
                        "type": "text",
                        "text": "b",
                        "marks": [{"type": "link", "attrs": link("/x")}, {"type": "bold"}],
                    },
                    {"type": "hardBreak"},
                    {"type": "text", "text": "c"},
                ],
            },
            {
                "type": "table",
                "content": [
                    {
                        "type": "tableRow",
                        "content": [
                            {
                                "type": "tableCell",
                                "attrs": {"colspan": 1, "colwidth": [120], "rowspan": 1},
                                "content": [
                                    {
                                        "type": "paragraph",
                                        "content": [{"type": "text", "text": "x"}],
                                    }
                                ],
                            }
                        ],
                    }
                ],
            },
        ],
    }


def test_document_text() -> None:
    doc = build(
        E("heading", "Title", level=1),
        P("one", E("hardBreak"), "two"),
        E("bulletList", LI(P("item"))),
        E("codeBlock", "code"),
        P(),
    )
    assert document_text(doc) == "Title\none\ntwo\nitem\ncode\n"


def test_whitespace_trimmed_per_mark_run() -> None:
    out = md(P(T("1", strike={}), T("\t", strike={}), T(" x", strike={}, bold={}), T(" ", bold={})))
    assert out == "~~1\t **x**~~&#32;\n"


def test_bang_before_link_is_escaped() -> None:
    assert md(P("Wow!", T("link", link=link("/u")))) == "Wow\\![link](/u)\n"
    assert md(P("Wow!")) == "Wow!\n"
