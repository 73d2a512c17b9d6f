"""Word diff between two plain texts, bounded in time (for the version view).

The diff this replaces ran difflib's SequenceMatcher over words: quadratic, so a paragraph of
1,500 words interleaved with 1,500 new ones took over two minutes, and anyone who may view a
document may ask for it. Here:

1. the texts are cut into tokens (runs of word characters, runs of blanks, single other
   characters) and the common head and tail are set aside (linear);
2. the middle is compared line by line (a line is one character to diff-match-patch);
3. each run of changed lines is compared word by word (a token is one character);

both with diff-match-patch's Myers diff, which takes a deadline: when the budget is spent it
answers the rest of its problem as "all of this was removed, all of that added", so the result
is always a correct diff, only coarser. The budget is shared by everything one call does.
"""

from __future__ import annotations

import re
import sys
import time

from diff_match_patch import diff_match_patch

from .budget import Deadline

__all__ = ["myers", "text_diff"]

_TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)
_MAX_SYMBOLS = sys.maxunicode  # distinct tokens (or lines) one diff can tell apart
# the line pass may use this share of the budget; the word passes get what is left
_LINE_SHARE = 0.5

Segments = list[list[str]]


def text_diff(old: str, new: str, deadline: Deadline | None = None) -> Segments:
    """Word-level diff turning `old` into `new`: [[op, text], ...] with op "=" (in both),
    "-" (only in `old`) and "+" (only in `new`). Joining the "=" and "-" segments gives `old`,
    the "=" and "+" segments give `new`; adjacent segments never share an op, and "-" comes
    before "+" where text was replaced. Past `deadline` the diff gets coarser, never wrong."""
    deadline = deadline or Deadline(None)
    a = _TOKEN.findall(old)
    b = _TOKEN.findall(new)
    head = 0
    while head < len(a) and head < len(b) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < len(a) - head and tail < len(b) - head and a[-1 - tail] == b[-1 - tail]:
        tail += 1
    out = _Segments()
    out.emit("=", a[:head])
    mid_a, mid_b = a[head : len(a) - tail], b[head : len(b) - tail]
    if mid_a and mid_b:
        _diff_lines(mid_a, mid_b, deadline, out)
    else:
        out.emit("-", mid_a)
        out.emit("+", mid_b)
    out.emit("=", a[len(a) - tail :])
    if deadline.remaining() <= 0:
        return out.segments
    return _aligned(out.segments)


_OPS = {"=": diff_match_patch.DIFF_EQUAL, "-": diff_match_patch.DIFF_DELETE,
        "+": diff_match_patch.DIFF_INSERT}
_NAMES = {code: name for name, code in _OPS.items()}


def _aligned(segments: Segments) -> Segments:
    """Slide each lone change sideways to the most natural boundary (a line, a sentence, a word):
    diff-match-patch's semantic lossless clean-up. Stripping the common tail token by token
    turned "The end." + a new paragraph "Added at the end." into "The[ end.¶Added at the] end."
    instead of "The end.[¶Added at the end.]" — a new block shown run into the one before it."""
    diffs = [(_OPS[op], text) for op, text in segments]
    diff_match_patch().diff_cleanupSemanticLossless(diffs)
    # back to this module's shape: no empty segments, neighbours merged, "-" before "+"
    merged: Segments = []
    for code, text in diffs:
        op = _NAMES[code]
        if not text:
            continue
        if merged and merged[-1][0] == op:
            merged[-1][1] += text
        elif op == "-" and merged and merged[-1][0] == "+":
            if len(merged) > 1 and merged[-2][0] == "-":
                merged[-2][1] += text
            else:
                merged.insert(len(merged) - 1, [op, text])
        else:
            merged.append([op, text])
    return merged


class _Segments:
    """Collects segments, merging neighbours with the same op (each text joined once)."""

    def __init__(self) -> None:
        self._ops: list[str] = []
        self._parts: list[list[str]] = []

    @property
    def segments(self) -> Segments:
        return [[op, "".join(parts)] for op, parts in zip(self._ops, self._parts, strict=True)]

    def emit(self, op: str, tokens: list[str]) -> None:
        if not tokens:
            return
        if self._ops and self._ops[-1] == op:
            self._parts[-1].extend(tokens)
        else:
            self._ops.append(op)
            self._parts.append(list(tokens))

    def change(self, removed: list[str], added: list[str]) -> None:
        self.emit("-", removed)
        self.emit("+", added)


def _lines(tokens: list[str]) -> list[list[str]]:
    """Tokens grouped into lines (a line ends after a blank run holding a newline)."""
    lines: list[list[str]] = [[]]
    for token in tokens:
        lines[-1].append(token)
        if "\n" in token:
            lines.append([])
    if not lines[-1]:
        lines.pop()
    return lines


def _diff_lines(a: list[str], b: list[str], deadline: Deadline, out: _Segments) -> None:
    lines_a, lines_b = _lines(a), _lines(b)
    keys_a = ["".join(line) for line in lines_a]
    keys_b = ["".join(line) for line in lines_b]
    ops = myers(keys_a, keys_b, min(deadline.at, _share(deadline, _LINE_SHARE)))
    if ops is None:
        out.change(a, b)
        return
    i = j = 0
    removed: list[str] = []
    added: list[str] = []
    for op, count in ops:
        if op == "=":
            if removed or added:
                _diff_words(removed, added, deadline, out)
                removed, added = [], []
            for line in lines_a[i : i + count]:
                out.emit("=", line)
            i += count
            j += count
        elif op == "-":
            for line in lines_a[i : i + count]:
                removed.extend(line)
            i += count
        else:
            for line in lines_b[j : j + count]:
                added.extend(line)
            j += count
    if removed or added:
        _diff_words(removed, added, deadline, out)


def _diff_words(a: list[str], b: list[str], deadline: Deadline, out: _Segments) -> None:
    if not a or not b:
        out.change(a, b)
        return
    ops = myers(a, b, deadline.at)
    if ops is None:
        out.change(a, b)
        return
    i = j = 0
    for op, count in ops:
        if op == "=":
            out.emit("=", a[i : i + count])
            i += count
            j += count
        elif op == "-":
            out.emit("-", a[i : i + count])
            i += count
        else:
            out.emit("+", b[j : j + count])
            j += count


def _share(deadline: Deadline, share: float) -> float:
    """A monotonic time `share` of the way from now to the deadline."""
    now = time.monotonic()
    return now + (deadline.at - now) * share


def myers(a: list[str], b: list[str], until: float) -> list[tuple[str, int]] | None:
    """Diff two sequences of strings as [(op, count), ...] with diff-match-patch, each distinct
    string one character; None if there are too many distinct strings to encode."""
    symbols: dict[str, str] = {}

    def encode(items: list[str]) -> str | None:
        chars = []
        for item in items:
            char = symbols.get(item)
            if char is None:
                if len(symbols) >= _MAX_SYMBOLS:
                    return None
                char = symbols[item] = chr(len(symbols) + 1)
            chars.append(char)
        return "".join(chars)

    text_a, text_b = encode(a), encode(b)
    if text_a is None or text_b is None:
        return None
    dmp = diff_match_patch()
    # no timeout of its own: its "half match" speed-up is not bounded by the deadline
    dmp.Diff_Timeout = 0
    # diff-match-patch keeps time with time.time(); ours is monotonic
    wall = time.time() + (until - time.monotonic()) if until != float("inf") else sys.maxsize
    ops = {diff_match_patch.DIFF_EQUAL: "=", diff_match_patch.DIFF_DELETE: "-",
           diff_match_patch.DIFF_INSERT: "+"}
    return [(ops[op], len(chunk)) for op, chunk in dmp.diff_main(text_a, text_b, False, wall)]
