"""crdt/text_diff.py: the version view's word diff, bounded by a deadline, never wrong."""

from __future__ import annotations

import random
import time

from crdt.budget import Deadline
from crdt.text_diff import text_diff


def check(old: str, new: str, segments: list[list[str]]) -> None:
    assert "".join(t for op, t in segments if op != "+") == old
    assert "".join(t for op, t in segments if op != "-") == new
    assert all(a[0] != b[0] for a, b in zip(segments, segments[1:], strict=False))
    assert all(op in "=+-" and text for op, text in segments)


def test_word_granularity_and_shape():
    assert text_diff("the quick brown fox", "the slow brown fox jumps") == [
        ["=", "the "], ["-", "quick"], ["+", "slow"], ["=", " brown fox"], ["+", " jumps"]]
    assert text_diff("a\nb\nc", "a\nB\nc") == [["=", "a\n"], ["-", "b"], ["+", "B"], ["=", "\nc"]]
    assert text_diff("", "x") == [["+", "x"]]
    assert text_diff("x", "") == [["-", "x"]]


def test_interleaved_words_are_fast_and_exact():
    # difflib took over two minutes on this (issue 14)
    words = [f"w{i}" for i in range(1500)]
    old = " ".join(words)
    new = " ".join(f"{w} n{i}" for i, w in enumerate(words))
    started = time.perf_counter()
    segments = text_diff(old, new, Deadline(10))
    assert time.perf_counter() - started < 5
    check(old, new, segments)
    # only insertions: every old word is kept
    assert not any(op == "-" for op, _ in segments)


def test_past_the_deadline_the_diff_is_coarser_but_correct():
    rng = random.Random(4)
    old = " ".join(rng.choice("abcde") for _ in range(100_000))
    new = " ".join(rng.choice("abcde") for _ in range(100_000))
    started = time.perf_counter()
    segments = text_diff(old, new, Deadline(0.3))
    assert time.perf_counter() - started < 2
    check(old, new, segments)


def test_changed_lines_are_diffed_word_by_word():
    old = "\n".join(f"line {i} stays" for i in range(3000))
    new = old.replace("line 1500 stays", "line 1500 moved")
    segments = text_diff(old, new, Deadline(5))
    check(old, new, segments)
    assert [s for s in segments if s[0] != "="] == [["-", "stays"], ["+", "moved"]]


def test_random_texts():
    rng = random.Random(5)
    words = ["a", "b", "c", " ", "\n", "déjà", "vu", ",", ".", "\n\n"]
    for _ in range(300):
        old = "".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        new = "".join(rng.choice(words) for _ in range(rng.randint(0, 40)))
        for segments in (text_diff(old, new), text_diff(old, new, Deadline(0))):
            # what the version view shows struck out and added rebuilds both texts exactly
            assert "".join(t for op, t in segments if op != "+") == old
            assert "".join(t for op, t in segments if op != "-") == new
            check(old, new, segments)


def test_a_block_added_at_the_end_is_one_change_on_its_own_line():
    """Issue 18, defect 4: the common tail " end." was taken from the new paragraph, so the
    change read "The[ end.¶Added at the] end." and the view ran it into the paragraph before."""
    old = "Plan\nfirst\nsecond\nthird\nThe end.\nAdded at the end."
    new = "Plan\nfirst\nthird\nThe end."
    assert text_diff(old, new) == [["=", "Plan\nfirst\n"], ["-", "second\n"],
                                   ["=", "third\nThe end."], ["-", "\nAdded at the end."]]
    segments = text_diff("Intro line.\nThe body.", "The body.")
    assert segments == [["-", "Intro line.\n"], ["=", "The body."]]
