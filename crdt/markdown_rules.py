"""markdown-it rules that keep parsing within a time budget and (near) linear in the input.

markdown-it-py is a faithful port of markdown-it, including its superlinear corners, and an
import is anyone's text. Measured on 100 KB inputs before these rules (issue 14): ``- [ ] a``
lines 16 s (the task-list plugin looks for each item's parent by
scanning back to the list's start), ``[`` repeated 5 s and ``![`` repeated 10 s (every opening
bracket scans to the end of its paragraph for a ``]``). Both grow with the square of the size,
so a 5 MB import would run for hours.

* :func:`parse_link_label` replaces markdown-it's ``parseLinkLabel`` for our parser: the scan
  from one ``[`` also settles every plain ``[`` it passes (where its label ends, or that it has
  none), so each bracket is scanned once, not once per bracket before it.
* :func:`tasklists` replaces mdit-py-plugins' task-list rule with a linear one (the importer
  only needs the item's class and the checkbox token).
* :func:`deadline_block` / :func:`deadline_inline` / :func:`deadline_core` look at the
  ``Deadline`` the caller put in ``env["quire_deadline"]`` and stop the parse with
  ``BudgetExceeded`` once it is spent, whatever else is slow.
"""

from __future__ import annotations

import re
import types
from typing import Any

from markdown_it import MarkdownIt, helpers
from markdown_it.rules_block import StateBlock
from markdown_it.rules_core import StateCore
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from .budget import Deadline

ENV_DEADLINE = "quire_deadline"

_TODO_RE = re.compile(r"\[[ xX]\][ \t\n\v\f\r]")
_UNCHECKED = '<input class="task-list-item-checkbox" disabled="disabled" type="checkbox">'
_CHECKED = ('<input class="task-list-item-checkbox" checked="checked" disabled="disabled" '
            'type="checkbox">')
_LABEL = "quire_label"  # tuple keys in StateInline.cache, apart from skipToken's int keys


def _deadline(env: Any) -> Deadline | None:
    return env.get(ENV_DEADLINE) if isinstance(env, dict) else None


def deadline_block(state: StateBlock, start_line: int, end_line: int, silent: bool) -> bool:
    """Block rule (first in the chain): never matches, only checks the budget."""
    deadline = _deadline(state.env)
    if deadline is not None:
        deadline.tick()
    return False


def deadline_inline(state: StateInline, silent: bool) -> bool:
    """Inline rule (first in the chain, also run by skipToken): checks the budget."""
    deadline = _deadline(state.env)
    if deadline is not None:
        deadline.tick()
    return False


def deadline_core(state: StateCore) -> None:
    """Core rule: checks the budget between the parse's phases."""
    deadline = _deadline(state.env)
    if deadline is not None:
        deadline.check()


def parse_link_label(state: StateInline, start: int, disableNested: bool = False) -> int:  # noqa: N803
    """markdown-it's parseLinkLabel (same results), remembering what each scan learns.

    The scan from the ``[`` at `start` walks the tokens after it keeping a nesting level; a
    plain ``[`` it passes starts a label that ends at the ``]`` that brings the level back, or
    nowhere before ``posMax`` if the scan ends first. Those answers go into the inline state's
    cache, so the link/image rule at that ``[`` later answers at once, and a scan that meets a
    ``[`` already answered steps over its label (or gives up with it) instead of walking it
    again. (markdown-it caches skipToken per position the same way, ignoring nesting.)"""
    cache = state.cache
    end = state.posMax

    def key(pos: int) -> tuple[str, int, bool, int]:
        return (_LABEL, pos, disableNested, end)

    known: int | None = cache.get(key(start))  # type: ignore[call-overload]
    if known is not None:
        return known
    old_pos = state.pos
    state.pos = start + 1
    level = 1
    opened: list[int] = []  # plain "[" passed by this scan and not closed yet
    found = -1
    src = state.src
    while state.pos < end:
        marker = src[state.pos]
        if marker == "]":
            level -= 1
            if level == 0:
                found = state.pos
                break
            cache[key(opened.pop())] = state.pos  # type: ignore[index]
        before = state.pos
        state.md.inline.skipToken(state)
        if marker == "[":
            if before != state.pos - 1:
                if disableNested:
                    break  # a link inside a link text: no label here, nor for any open "["
                continue
            # A plain "[": skipToken ran the link rule there, which scanned its label. Its
            # answer settles ours: no "]" for it means none for us either; else go past it.
            inner = cache.get(key(before))  # type: ignore[call-overload]
            if inner is None:
                level += 1
                opened.append(before)
            elif inner < 0:
                break
            else:
                state.pos = inner + 1  # skipToken on "]" only ever steps over it
    for pos in opened:
        cache[key(pos)] = -1  # type: ignore[index]
    cache[key(start)] = found  # type: ignore[index]
    state.pos = old_pos
    return found


def link_helpers() -> types.SimpleNamespace:
    """markdown-it's helpers with our parse_link_label (set on one MarkdownIt instance only)."""
    return types.SimpleNamespace(
        parseLinkLabel=parse_link_label,
        parseLinkDestination=helpers.parseLinkDestination,
        parseLinkTitle=helpers.parseLinkTitle,
    )


def guard_footnote_inline(md: MarkdownIt) -> None:
    """mdit-py-plugins' ``^[inline note]`` rule calls the module's own parseLinkLabel: answer
    "no note" from our cached scan first, so only notes that exist are scanned twice."""
    rules = md.inline.ruler.__rules__
    index = md.inline.ruler.__find__("footnote_inline")
    if index < 0:
        return
    original = rules[index].fn

    def footnote_inline(state: StateInline, silent: bool) -> bool:
        pos = state.pos
        if (pos + 2 < state.posMax and state.src[pos] == "^" and state.src[pos + 1] == "["
                and parse_link_label(state, pos + 1) < 0):
            return False
        return original(state, silent)

    md.inline.ruler.at("footnote_inline", footnote_inline)


def tasklists(state: StateCore) -> None:
    """GitHub task items (``- [ ] ...``), as mdit-py-plugins marks them, in one pass: the item
    gets class ``task-list-item`` and its inline content starts with a checkbox token."""
    tokens = state.tokens
    for i in range(2, len(tokens) - 1):
        token = tokens[i]
        if (token.type == "inline" and tokens[i - 1].type == "paragraph_open"
                and tokens[i - 2].type == "list_item_open" and _TODO_RE.match(token.content)
                and token.children):
            box = Token("html_inline", "", 0)
            # exactly the plugin's tokens: a tab after "[x]" leaves the checkbox empty
            if token.content.startswith("[ ] "):
                box.content = _UNCHECKED
            elif token.content.startswith(("[x] ", "[X] ")):
                box.content = _CHECKED
            token.children.insert(0, box)
            token.children[1].content = token.children[1].content[3:]
            token.content = token.content[3:]
            tokens[i - 2].attrSet("class", "task-list-item")


def install(md: MarkdownIt) -> None:
    """Add the budget checks and the linear replacements to `md` (after its plugins)."""
    md.helpers = link_helpers()  # type: ignore[assignment]
    guard_footnote_inline(md)
    if "github-tasklists" in md.core.ruler.get_all_rules():
        md.core.ruler.at("github-tasklists", tasklists)
    md.block.ruler.before(md.block.ruler.get_all_rules()[0], "quire_deadline", deadline_block)
    md.inline.ruler.before("text", "quire_deadline", deadline_inline)
    md.core.ruler.after("block", "quire_deadline", deadline_core)
