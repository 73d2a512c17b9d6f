"""bench/markdown_corpus.py compares blocks as a reader sees them, and no more loosely."""

from __future__ import annotations

from bench.markdown_corpus import normalize


def test_nesting_order_of_marks_around_the_same_text_is_one() -> None:
    assert normalize('<p><strong><a href="u">x</a></strong> y</p>') == \
        normalize('<p><a href="u"><strong>x</strong></a> y</p>')
    assert normalize('<p><em><a href="u" title="t">(s)</a></em></p>') == \
        normalize('<p><a href="u" title="t"><em>(s)</em></a></p>')


def test_what_a_reader_would_see_differently_still_differs() -> None:
    # another destination, another title, other text, or a mark over a different stretch
    assert normalize('<p><strong><a href="u">x</a></strong></p>') != \
        normalize('<p><a href="v"><strong>x</strong></a></p>')
    assert normalize('<p><strong><a href="u" title="t">x</a></strong></p>') != \
        normalize('<p><a href="u"><strong>x</strong></a></p>')
    assert normalize('<p><strong><a href="u">x</a></strong></p>') != \
        normalize('<p><a href="u"><strong>y</strong></a></p>')
    assert normalize('<p><strong><a href="u">x</a> y</strong></p>') != \
        normalize('<p><a href="u"><strong>x</strong></a> y</p>')
    assert normalize('<p><strong>x</strong></p>') != normalize('<p><em>x</em></p>')
