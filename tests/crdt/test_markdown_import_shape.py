"""Import direction: the Yjs shape is exactly what Tiptap 3 (y-tiptap) writes."""

from __future__ import annotations

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.markdown import fragment_to_json, import_markdown

LINK_DEFAULTS = {"target": "_blank", "rel": "noopener noreferrer nofollow", "class": None}


def _blocks(text: str) -> list[dict]:
    doc = Doc()
    import_markdown(text, doc)
    return fragment_to_json(doc)["content"]


def test_raw_yjs_elements_attributes_and_marks() -> None:
    doc = Doc()
    import_markdown("## Hi **there**\n\n3. x\n\n- [x] done\n", doc)
    fragment = doc.get("default", type=XmlFragment)
    heading, ordered, tasks = list(fragment.children)
    assert isinstance(heading, XmlElement) and heading.tag == "heading"
    assert dict(heading.attributes) == {"level": 2.0}  # a JS number, as the browser writes it
    text = heading.children[0]
    assert isinstance(text, XmlText)
    assert text.diff() == [("Hi ", None), ("there", {"bold": {}})]
    assert ordered.tag == "orderedList" and dict(ordered.attributes) == {"start": 3.0}
    item = ordered.children[0]
    assert item.tag == "listItem" and item.children[0].tag == "paragraph"
    assert tasks.tag == "taskList"
    assert tasks.children[0].tag == "taskItem" and dict(tasks.children[0].attributes) == {
        "checked": True
    }


def test_paragraph_with_hard_break_is_text_element_text() -> None:
    doc = Doc()
    import_markdown("a  \nb", doc)
    paragraph = doc.get("default", type=XmlFragment).children[0]
    kinds = [type(child).__name__ for child in paragraph.children]
    assert kinds == ["XmlText", "XmlElement", "XmlText"]
    assert paragraph.children[1].tag == "hardBreak"


def test_lists_and_tasks() -> None:
    assert _blocks("1. a\n   - b\n") == [
        {
            "type": "orderedList",
            "attrs": {"start": 1},
            "content": [
                {
                    "type": "listItem",
                    "content": [
                        {"type": "paragraph", "content": [{"type": "text", "text": "a"}]},
                        {
                            "type": "bulletList",
                            "content": [
                                {
                                    "type": "listItem",
                                    "content": [
                                        {
                                            "type": "paragraph",
                                            "content": [{"type": "text", "text": "b"}],
                                        }
                                    ],
                                }
                            ],
                        },
                    ],
                }
            ],
        }
    ]
    tasks = _blocks("- [ ] todo\n- [X] done\n- [ ]\n")[0]
    assert tasks["type"] == "taskList"
    assert [item["attrs"]["checked"] for item in tasks["content"]] == [False, True, False]
    assert tasks["content"][2]["content"] == [{"type": "paragraph"}]  # empty task item


def test_empty_list_item_gets_its_paragraph() -> None:
    assert _blocks("-\n  - x\n")[0]["content"][0]["content"][0] == {"type": "paragraph"}


def test_code_blocks() -> None:
    assert _blocks("```js\nlet a;\n```\n\n    indented\n") == [
        {
            "type": "codeBlock",
            "attrs": {"language": "js"},
            "content": [{"type": "text", "text": "let a;"}],
        },
        {"type": "codeBlock", "content": [{"type": "text", "text": "indented"}]},
    ]


def test_table_cells_hold_paragraphs_with_span_attrs() -> None:
    table = _blocks("| a | b |\n|:-:|---|\n| 1 |  |\n")[0]
    header, row = table["content"]
    assert header["content"][0] == {
        "type": "tableHeader",
        "attrs": {"align": "center", "colspan": 1, "rowspan": 1},
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": "a"}]}],
    }
    assert header["content"][1]["attrs"] == {"colspan": 1, "rowspan": 1}
    assert row["content"][1] == {
        "type": "tableCell",
        "attrs": {"colspan": 1, "rowspan": 1},
        "content": [{"type": "paragraph"}],
    }


def test_marks_and_link_defaults() -> None:
    paragraph = _blocks('[**x**](/u "T") ~~s~~ `c` <u>u</u> <ins>v</ins>')[0]["content"]
    assert paragraph[0] == {
        "type": "text",
        "text": "x",
        "marks": [
            {"type": "link", "attrs": {"href": "/u", **LINK_DEFAULTS, "title": "T"}},
            {"type": "bold"},
        ],
    }
    marks = {node["text"]: node.get("marks") for node in paragraph}
    assert marks["s"] == [{"type": "strike"}]
    assert marks["c"] == [{"type": "code"}]
    assert marks["u"] == [{"type": "underline"}]
    assert marks["v"] == [{"type": "underline"}]


def test_link_destination_kept_as_written() -> None:
    paragraph = _blocks("[x](<https://ex.com/a b?q=ä>)")[0]["content"]
    assert paragraph[0]["marks"][0]["attrs"]["href"] == "https://ex.com/a b?q=ä"


def test_images_are_inline_nodes_where_the_markdown_has_them() -> None:
    image = {"type": "image", "attrs": {"alt": "alt text", "src": "p.png", "title": "T"}}
    assert _blocks('![alt *text*](p.png "T")') == [{"type": "paragraph", "content": [image]}]
    assert _blocks('# The ![alt *text*](p.png "T") logo') == [
        {"type": "heading", "attrs": {"level": 1},
         "content": [{"type": "text", "text": "The "}, image, {"type": "text", "text": " logo"}]}
    ]


def test_rules_quotes_and_headings() -> None:
    assert _blocks("> # T\n\n***\n") == [
        {
            "type": "blockquote",
            "content": [
                {
                    "type": "heading",
                    "attrs": {"level": 1},
                    "content": [{"type": "text", "text": "T"}],
                }
            ],
        },
        {"type": "horizontalRule"},
    ]


def test_soft_breaks_become_spaces() -> None:
    assert _blocks("a\nb")[0]["content"] == [{"type": "text", "text": "a b"}]
