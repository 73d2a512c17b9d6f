"""Markdown conversion on hostile input: linear where markdown-it-py or our code was not, within
a time budget where the input is merely big, and capped in the parts it may create.

Sizes are ones that took from ten seconds to hours before (see crdt/markdown_rules.py)."""

from __future__ import annotations

import random
import time

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.footnote import footnote_plugin
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.budget import BudgetExceeded, Deadline
from crdt.markdown import (
    MAX_DEPTH,
    TooManyNodes,
    export_markdown,
    fragment_to_json,
    import_markdown,
)
from crdt.markdown_import import _MD, parse_markdown
from crdt.markdown_inline import Item, merge, render_items, split_edge_whitespace


def timed(fn, *args, **kwargs) -> float:
    started = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - started


# ---- parsing ------------------------------------------------------------------------------

LINEAR_NOW = {
    # mdit-py-plugins' task lists: each item scanned back to its list's start (100 KB: 16 s)
    "task items": "- [ ] a\n" * 20_000,
    # each "[" scanned the rest of the paragraph for its "]" (100 KB: 5 s, 5 MB: hours)
    "open brackets": "[" * 60_000,
    "brackets and text": "[a" * 30_000,
    "nested brackets": "[" * 30_000 + "]" * 30_000,
    "image openers": "![" * 30_000,
    "inline footnote openers": "^[" * 30_000,
    # one paragraph of many lines was re-joined line by line (quadratic copying)
    "one long paragraph": "a\n" * 60_000,
    # <abbr title>/<dfn title> are read with their title: one small parse per tag, not per text
    "nested abbreviations": "<abbr title='t'>" * 20_000 + "x" + "</abbr>" * 20_000,
    "unclosed definitions": "<dfn title='a'>x " * 20_000,
}


@pytest.mark.parametrize("name", list(LINEAR_NOW))
def test_pathological_parse_is_fast(name):
    assert timed(parse_markdown, LINEAR_NOW[name]) < 4


def test_task_items_still_parse_as_task_items():
    blocks = parse_markdown("- [ ] a\n- [x] b\n- [X]\tc\n1. [x] d\n")
    assert blocks[0]["type"] == "taskList"
    assert [i["attrs"]["checked"] for i in blocks[0]["content"]] == [False, True, False]
    assert blocks[1]["content"][0]["content"][0]["content"][0]["text"] == "[x] d"


def _reference_parser() -> MarkdownIt:
    """markdown-it with its own parseLinkLabel (what our memoised one must agree with)."""
    md = MarkdownIt("commonmark", {"html": True})
    md.use(footnote_plugin)
    return md


def _ours() -> MarkdownIt:
    md = _reference_parser()
    from crdt import markdown_rules

    markdown_rules.install(md)
    return md


def test_link_label_scan_gives_markdown_its_own_answers():
    ours, reference = _ours(), _reference_parser()
    pieces = ["[", "]", "![", "(", ")", "a", " ", "`", "\\[", "[x]", "(/u)", "<a>", "^[", "*",
              "[^1]", "\n"]
    rng = random.Random(14)
    for _ in range(1500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 40)))
        text += "\n\n[x]: /ref\n"
        assert ours.render(text) == reference.render(text), repr(text)
    assert _MD.helpers.parseLinkLabel.__module__ == "crdt.markdown_rules"


def test_parse_stops_at_its_deadline():
    with pytest.raises(BudgetExceeded):
        parse_markdown("- *a* [b](c)\n" * 100_000, Deadline(0.05))


# ---- writing the document -----------------------------------------------------------------


def test_many_blocks_are_written_in_linear_time():
    # appending each block made yrs walk all blocks before it: 100,000 paragraphs took 74 s;
    # linear, 40,000 take 2-3 s here (4.1 s once with the other core busy): 10 s still tells
    # linear from quadratic (minutes) without failing on a busy machine
    doc = Doc()
    assert timed(import_markdown, "a\n\n" * 40_000, doc) < 10
    fragment = doc.get("default", type=XmlFragment)
    assert len(fragment.children) == 40_000


def test_written_order_and_marks_are_kept():
    doc = Doc()
    import_markdown("one **two** three *four*\n\n- x\n- y\n\n> q\n", doc)
    assert export_markdown(doc) == "one **two** three *four*\n\n- x\n- y\n\n> q\n"


def test_node_cap_refuses_before_touching_the_document():
    doc = Doc()
    import_markdown("kept\n", doc)
    with pytest.raises(TooManyNodes):
        import_markdown("-\n" * 2_000, doc, max_nodes=1_000)
    assert export_markdown(doc) == "kept\n"
    import_markdown("-\n" * 400, doc, max_nodes=1_000)  # 800 parts: fine


def _depth(blocks: list[dict]) -> int:
    deepest, stack = 0, [(b, 1) for b in blocks]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node.get("content") or [])
    return deepest


@pytest.mark.parametrize("src", [
    "<details>\n<summary>s</summary>\n\nx\n\n" * 5_000,  # Markdown bodies, never closed
    "<details><summary>s</summary>" * 5_000,  # one HTML block
    "> <details>\n>\n" * 2_000,
])
def test_unclosed_details_cannot_nest_without_bound(src):
    """Each <details> is a container: openers without </details> stop nesting at MAX_DEPTH
    (pycrdt decodes recursively, and a deep enough document kills the process)."""
    blocks = parse_markdown(src)
    assert _depth(blocks) <= 2 * MAX_DEPTH + 4
    doc = Doc()
    import_markdown(src, doc)
    assert export_markdown(doc).count("<details>") >= 1


def test_import_stops_at_its_deadline():
    with pytest.raises(BudgetExceeded):
        import_markdown("a\n\n" * 200_000, Doc(), deadline=Deadline(0.05))


# ---- exporting ----------------------------------------------------------------------------


def _paragraph_doc(children: list[XmlText | XmlElement]) -> Doc:
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        paragraph = fragment.children.insert(0, XmlElement("paragraph"))
        for child in reversed(children):
            paragraph.children.insert(0, child)
    return doc


def test_export_of_many_hard_breaks_is_linear():
    # rendering looked at every later item for each break: 100,000 breaks took 80 s
    children: list[XmlText | XmlElement] = []
    for _ in range(20_000):
        children += [XmlText("a"), XmlElement("hardBreak")]
    doc = _paragraph_doc([*children, XmlText("a")])
    started = time.perf_counter()
    text = export_markdown(doc)
    assert time.perf_counter() - started < 4
    assert text.count("\\\n") == 20_000


def test_inline_helpers_are_linear():
    # `+=` on an attribute or a dict value copies the whole string every time
    long = "x" * 400_000
    bold = Item("text", long, [("bold",)])
    assert timed(split_edge_whitespace, [bold]) < 2
    items = [Item("text", "ab", [("bold",)]) for _ in range(100_000)]
    started = time.perf_counter()
    merged = merge(items)
    assert time.perf_counter() - started < 1 and len(merged) == 1
    runs = [Item("text", "a", [("bold",)] if i % 2 else []) for i in range(60_000)]
    assert timed(render_items, runs, "block", False) < 2


def test_fragment_to_json_merges_many_runs_linearly():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        paragraph = fragment.children.insert(0, XmlElement("paragraph"))
        text = paragraph.children.insert(0, XmlText())
        # runs whose marks differ only by their hash merge into one text node
        for i in range(40_000):
            text.insert(0, "ab", {f"x--{i:08d}": {}})
    started = time.perf_counter()
    json = fragment_to_json(doc)
    assert time.perf_counter() - started < 4
    assert len(json["content"][0]["content"][0]["text"]) == 80_000


def test_export_of_a_huge_table_is_not_padded_past_the_cap():
    from crdt.markdown_export import MAX_TABLE_CELLS, render_markdown

    def cell(span: int = 1) -> dict:
        return {"type": "tableCell", "attrs": {"colspan": span, "rowspan": 1},
                "content": [{"type": "paragraph", "content": [{"type": "text", "text": "c"}]}]}

    wide = {"type": "tableRow", "content": [cell(1000) for _ in range(100)]}
    rows = [wide] + [{"type": "tableRow", "content": [cell()]} for _ in range(2_000)]
    started = time.perf_counter()
    text = render_markdown([{"type": "table", "content": rows}])
    assert time.perf_counter() - started < 2
    # neither the 1000-wide spans nor padding of 2,000 short rows to the header's width
    assert len(text) < 10 * MAX_TABLE_CELLS


def test_export_stops_at_its_deadline():
    doc = Doc()
    import_markdown("a **b** c\n\n" * 5_000, doc)
    with pytest.raises(BudgetExceeded):
        export_markdown(doc, deadline=Deadline(0.01))
