"""Restoring a version in bounded time: the comparison of children has a deadline, insertions
go in from the end, and a restore is worked out on a copy (`restore_update`)."""

from __future__ import annotations

import time

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.budget import BudgetExceeded, Deadline
from crdt.versions import content_tree, restore, restore_update


def paragraphs(texts: list[str]) -> Doc:
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for text in reversed(texts):
            paragraph = fragment.children.insert(0, XmlElement("paragraph"))
            paragraph.children.insert(0, XmlText(text))
    return doc


def same(a: Doc, b: Doc) -> bool:
    return content_tree(a)["fragment"] == content_tree(b)["fragment"]


def test_alternating_paragraphs_restore_fast():
    # difflib's SequenceMatcher took 112 s on this, on the event loop
    live = paragraphs(["a"] * 2000)
    version = paragraphs(["a" if i % 2 else "b" for i in range(2000)])
    started = time.perf_counter()
    assert restore(live, version)
    assert time.perf_counter() - started < 5
    assert same(live, version)


def test_many_new_blocks_restore_in_linear_time():
    # each inserted block walked all blocks before it
    live = paragraphs([])
    version = paragraphs([f"p{i}" for i in range(20_000)])
    started = time.perf_counter()
    assert restore(live, version)
    assert time.perf_counter() - started < 8
    assert same(live, version)


def test_small_edits_stay_small():
    texts = [f"paragraph {i}" for i in range(500)]
    live = paragraphs(texts)
    changed = list(texts)
    changed[250] = "paragraph two hundred and fifty"
    version = paragraphs(changed)
    before = live.get_state()
    assert restore(live, version)
    assert same(live, version)
    assert len(live.get_update(before)) < 200  # one paragraph's text, not the document


def test_restore_update_is_computed_on_a_copy():
    live = paragraphs(["one", "two", "three"])
    version = paragraphs(["one", "2", "three", "four"])
    state = live.get_update()
    update = restore_update(state, version, Deadline(5))
    assert update is not None
    assert content_tree(live)["fragment"] != content_tree(version)["fragment"]  # untouched
    live.apply_update(update)
    assert same(live, version)
    assert restore_update(live.get_update(), version) is None  # equal already


def test_restore_update_stops_at_its_deadline():
    live = paragraphs([f"a{i}" for i in range(5000)])
    version = paragraphs([f"b{i}" for i in range(5000)])
    with pytest.raises(BudgetExceeded):
        restore_update(live.get_update(), version, Deadline(0.01))
