"""One plain text for a document, however it is read: walked from the live document
(`crdt.plain_text`, which comment anchors, quotes and search use) or made from the editor JSON
(`crdt.markdown.json_text`, which version views use)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pycrdt import Doc

from crdt.markdown import fragment_to_json, import_markdown, json_text
from crdt.plain_text import document_text, walk

CORPUS = Path(__file__).parent / "markdown_corpus"


def samples() -> list[tuple[str, str]]:
    found = [(p.name, p.read_text()) for p in sorted(CORPUS.glob("*.md"))]
    spec = json.loads((CORPUS / "commonmark_spec_examples.json").read_text())
    found += [(f"spec-{n}", e["markdown"]) for n, e in enumerate(spec["examples"])]
    found += [("hard break", "one  \ntwo\n"), ("empty", ""),
              ("nested", "> - a\n>   - b\n\n|x|y|\n|-|-|\n|1|2|\n"),
              ("unicode", "Zoë 😀 naïve\n\n```\ncode\n```\n")]
    return found


@pytest.mark.parametrize(("name", "source"), samples(), ids=[n for n, _ in samples()])
def test_the_walk_and_the_json_give_the_same_text(name, source):
    doc = Doc()
    import_markdown(source, doc)
    text, runs = walk(doc)
    assert text == json_text(fragment_to_json(doc)) == document_text(doc)
    # every run sits where the text says it does
    for run in runs:
        assert text[run.start:run.start + len(run.text)] == run.text
