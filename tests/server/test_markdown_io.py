"""server/markdown_io.py: titles found in imported Markdown, in linear time."""

from __future__ import annotations

import time

import pytest

from server.markdown_io import convert_import, title_from


@pytest.mark.parametrize(("text", "title"), [
    ("# Plan", "Plan"),
    ("## Plan ##  ", "Plan"),
    ("#\tTabbed", "Tabbed"),
    ("intro\n\n### Third level\n# First", "Third level"),
    ("#NoSpace\n# Spaced", "Spaced"),
    ("####### seven\n", "fallback"),
    ("# ##\n", "fallback"),
    ("---\ntitle: 'From front matter'\n---\n# Heading", "From front matter"),
    ("---\nauthor: x\n---\n# Heading", "Heading"),
    ("# ![Yjs](https://example.com/yjs.png) *shared* `types` [docs](https://yjs.dev)", "Yjs shared types docs"),
    ("# <img src=x> **Bold** title", "Bold title"),
    ("# ![](x.png)\n## Real title", "Real title"),
    ("---\ntitle: unclosed\n# Heading", "Heading"),
    ("", "fallback"),
])
def test_title_from(text, title):
    assert title_from(text, "fallback") == title


def test_title_from_is_linear_on_the_heading_that_froze_the_server():
    # `^#{1,6}\s+(.+?)\s*#*\s*$` (re.M) took ~100 s on 5,000 spaces; this is 200,000
    started = time.perf_counter()
    title = title_from("# a" + " " * 200_000 + "x", "fallback")
    assert time.perf_counter() - started < 0.5
    assert title == "a x"  # runs of blanks are one space in a title


def test_title_from_is_linear_on_many_lines():
    started = time.perf_counter()
    assert title_from("#" * 6 + "x\n" * 200_000, "fallback") == "fallback"
    assert title_from("---\n" + "key: v\n" * 200_000, "fallback") == "fallback"
    assert time.perf_counter() - started < 1


def test_convert_import_names_the_document():
    name, update = convert_import("# Found\n\nbody\n", title=None, fallback="file")
    assert name == "Found" and update
    assert convert_import("body\n", title="Given", fallback="file")[0] == "Given"
    assert convert_import("body\n", title=None, fallback="file")[0] == "file"
