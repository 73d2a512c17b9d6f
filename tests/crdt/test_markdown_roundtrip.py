"""Round trip over a corpus: our own Markdown files plus curated CommonMark spec examples.

For every input ``md``: ``import -> export -> import`` must give the same Yjs structure
(compared as ``fragment_to_json``), and markdown-it must render ``export(import(md))`` to
the same HTML as ``md`` (whitespace normalised). Inputs that cannot satisfy the HTML
check are listed in ``markdown_corpus/expected_differences.json`` with the reason; the
test fails if a listed case starts to match (so the list stays true).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.tasklists import tasklists_plugin
from pycrdt import Doc

from crdt.markdown import export_markdown, fragment_to_json, import_markdown

CORPUS = Path(__file__).parent / "markdown_corpus"
EXPECTED = json.loads((CORPUS / "expected_differences.json").read_text(encoding="utf-8"))
_REFERENCE = (
    MarkdownIt("commonmark", {"html": True})
    .enable(["table", "strikethrough"])
    .use(tasklists_plugin)
)


def _cases() -> list[tuple[str, str]]:
    cases = [(path.name, path.read_text(encoding="utf-8")) for path in sorted(CORPUS.glob("*.md"))]
    spec = json.loads((CORPUS / "commonmark_spec_examples.json").read_text(encoding="utf-8"))
    for n, example in enumerate(spec["examples"], 1):
        cases.append(
            (f"spec-{n:03d}-{example['section'].lower().replace(' ', '-')}", example["markdown"])
        )
    return cases


CASES = _cases()


def _html(markdown: str) -> str:
    html = _REFERENCE.render(markdown)
    html = re.sub(r">\s+<", "><", html)
    return re.sub(r"\s+", " ", html).strip()


def _round(markdown: str) -> tuple[dict, str, dict]:
    first = Doc()
    import_markdown(markdown, first)
    exported = export_markdown(first)
    second = Doc()
    import_markdown(exported, second)
    return fragment_to_json(first), exported, fragment_to_json(second)


@pytest.mark.parametrize(("name", "markdown"), CASES, ids=[name for name, _ in CASES])
def test_round_trip(name: str, markdown: str) -> None:
    first, exported, second = _round(markdown)
    assert second == first, exported  # structure always survives
    same_html = _html(exported) == _html(markdown)
    if name in EXPECTED:
        assert not same_html, f"{name} now round-trips: drop it from expected_differences.json"
    else:
        assert same_html, exported


def test_expected_differences_name_real_cases() -> None:
    names = {name for name, _ in CASES}
    assert set(EXPECTED) <= names
    assert all(reason.strip() for reason in EXPECTED.values())


def test_report(capsys: pytest.CaptureFixture[str]) -> None:
    exact = sum(1 for name, _ in CASES if name not in EXPECTED)
    assert exact + len(EXPECTED) == len(CASES) and exact >= 100
    with capsys.disabled():
        print(
            f"\nmarkdown corpus: {exact}/{len(CASES)} round-trip to identical HTML, "
            f"{len(EXPECTED)} expected differences"
        )
