"""The gate every update passes before pycrdt sees it: one per open document.

It reads each client update linearly (`crdt.update_format`), places its items in the document
(`crdt.structs`) and judges the effect for the sender's role (`crdt.judge`), in time proportional
to the update, never to the document. Then it learns what the document integrated (`learn`,
fed every transaction's update), so the next update is judged against the document as it is.

Decisions (`Gate.check`):
- APPLY: apply `update` (possibly less deletions the sender may not make, see `Verdict.drop`);
- HOLD: it needs changes the document does not have yet; a writer's update waits for them
  (its own reconnection sync may be under way), anyone else's is refused;
- REFUSE: beyond the sender's role (`reason` is told to them; the connection stays);
- IGNORE: nothing the sender may do is left in it (a viewer's formatting clean-up).
Malformed or too deeply nested updates raise `UpdateError` (the connection is closed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum
from typing import Any

from crdt.comment_ledger import CommentLedger
from crdt.judge import WRITE_ROLES, Refused, judge
from crdt.structs import Resolution, StructIndex
from crdt.update_format import (
    Update,
    UpdateError,
    collect_structs,
    parse_update,
    sanitize,
    with_deletes,
)

log = logging.getLogger("quire.gate")


class Decision(Enum):
    APPLY = "apply"
    HOLD = "hold"
    REFUSE = "refuse"
    IGNORE = "ignore"


@dataclass(slots=True)
class Checked:
    decision: Decision
    update: bytes = b""  # what to apply (APPLY)
    reason: str = ""  # why (HOLD, REFUSE)
    suggest: bool = False  # APPLY once it passes the suggestion check (a commenter's text)
    misattributed: frozenset[str] = frozenset()  # suggestion ids to give their true author
    clients: frozenset[int] = frozenset()  # Yjs client ids of its new items (crdt/authors.py)


class Gate:
    """An index of the document's items and a ledger of its comment owners (see module doc)."""

    __slots__ = ("index", "ledger")

    def __init__(self) -> None:
        self.index = StructIndex()
        self.ledger = CommentLedger()

    def check(self, update: bytes, *, role: str, who: str | None) -> Checked:
        """What to do with a client's update (see module doc). Raises UpdateError."""
        parsed = parse_update(update)
        resolution = self.index.resolve(parsed)
        if resolution.missing:
            if role in WRITE_ROLES:
                return Checked(Decision.HOLD, reason=f"the update {resolution.missing}")
            return Checked(Decision.REFUSE, reason=f"the update {resolution.missing}")
        try:
            verdict = judge(resolution, update, role=role, who=who, ledger=self.ledger)
        except Refused as refused:
            return Checked(Decision.REFUSE, reason=refused.reason)
        if verdict.silent:
            return Checked(Decision.IGNORE)
        if verdict.drop:
            update = with_deletes(parsed, _subtract(parsed.deletes, verdict.drop))
        return Checked(Decision.APPLY, update, suggest=verdict.suggest,
                       misattributed=frozenset(verdict.misattributed),
                       clients=frozenset(item.struct.client for item in resolution.items
                                         if item.place is not None))

    def check_trusted(self, update: bytes) -> tuple[bytes | None, str]:
        """An update from another process (or a catch-up from storage): made safe for pycrdt
        (`sanitize`), shared types nested too deep refused. (safe bytes or None, why not)."""
        safe, why = sanitize(update)
        if safe is not None and not why:
            try:
                self.index.resolve(parse_update(safe))
            except UpdateError as exc:
                return None, exc.reason
        return safe, why

    def learn(self, update: bytes) -> None:
        """The document integrated `update` (a transaction's own update): place its items."""
        resolution = self.index.resolve(parse_update(update), check_depth=False, partial=True)
        self._add(resolution, update)

    def load(self, boot: bytes, *, read: Update | None = None) -> tuple[bytes, str]:
        """Place a stored state before pycrdt builds the doc from it: (the bytes to build from,
        with shared types nested too deep collected; why anything was left out, or ""). `read`:
        `boot` as already read by `update_format.sanitize_read`, if it was."""
        update = read if read is not None and read.data is boot else parse_update(boot)
        deep: list[Any] = []
        resolution = self.index.resolve(update, partial=True, too_deep=deep)
        why = ""
        if deep:
            why = (f"{len(deep)} shared type(s) nested deeper than "
                   f"{self.index.max_type_depth} levels")
            update = parse_update(collect_structs(update, deep))
            resolution = self.index.resolve(update, partial=True)
        if resolution.missing:
            log.warning("a stored state holds items that cannot be placed (%s)",
                        resolution.missing)
        self._add(resolution, update.data)
        return update.data, why

    def _add(self, resolution: Resolution, data: bytes) -> None:
        self.index.add(resolution)
        self.ledger.add(resolution, data)


def stored_state(parts: list[bytes]) -> tuple[bytes, list[str]]:
    """Stored updates (a log, a version chain) as one update pycrdt can read safely: each
    part sanitized (`update_format.sanitize`), merged, shared types nested too deep
    collected. Returns the update and what was left out, for the caller to report."""
    from pycrdt import merge_updates

    left_out: list[str] = []
    clean = []
    for part in parts:
        safe, why = sanitize(part)
        if why:
            left_out.append(why)
        if safe is not None:
            clean.append(safe)
    if not clean:
        return b"\x00\x00", left_out
    merged = clean[0] if len(clean) == 1 else merge_updates(*clean)
    state, why = Gate().load(merged)
    if why:
        left_out.append(why)
    return state, left_out


def _subtract(ranges: list[tuple[int, int, int]],
              drop: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """The (client, clock, length) ranges of `ranges` outside every range of `drop`."""
    from bisect import bisect_right

    dropped: dict[int, list[tuple[int, int]]] = {}
    for client, clock, length in drop:
        dropped.setdefault(client, []).append((clock, clock + length))
    for client_spans in dropped.values():
        client_spans.sort()
    out: list[tuple[int, int, int]] = []
    for client, clock, length in ranges:
        spans = dropped.get(client)
        if not spans:
            out.append((client, clock, length))
            continue
        at, end = clock, clock + length
        i = max(0, bisect_right(spans, (at, float("inf"))) - 1)
        while at < end and i < len(spans):
            start, stop = spans[i]
            i += 1
            if stop <= at:
                continue
            if start >= end:
                break
            if start > at:
                out.append((client, at, start - at))
            at = max(at, stop)
        if at < end:
            out.append((client, at, end - at))
    return out
