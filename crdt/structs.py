"""Where every item of a document lives, kept beside the Doc so updates can be judged cheaply.

pycrdt cannot tell which shared type an item belongs to, and an update names the parent of most
of its items only through their neighbours (`origin`): deciding what a client's update touches
would mean applying it to a copy of the whole document. `StructIndex` keeps, per client, runs of
consecutive items that share a place — the parent type (a root's name or the ID of the item that
holds the parent type), the key in a map-like parent, how deep that parent is, and the root at
the top — plus the ranges already deleted. It is fed everything the document integrates (the
room hands it each transaction's update) and answers, for a new update, in time proportional to
that update: where each new item goes (`resolve`), whether anything it needs is missing, how deep
its shared types nest, and which existing items it deletes.

The placing follows Yjs (`Item.getMissing`): an item with an origin or right origin takes the
parent and key of that neighbour; an explicit parent ID must name an item holding a shared type;
an item next to a garbage-collected struct, or under a collected parent, is collected itself.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Literal

from crdt.update_format import (
    FORMAT,
    GC,
    ID,
    MAX_TYPE_DEPTH,
    SKIP,
    TYPE,
    Struct,
    Update,
    UpdateError,
)


@dataclass(frozen=True, slots=True)
class Place:
    """A parent and a key: where a run of items lives."""

    parent: str | ID  # a root's name, or the ID of the item holding the parent type
    key: str | None  # the key in a map-like parent (None in a sequence)
    depth: int  # how deep the parent type is: a root is 0
    root: str  # the root at the top of the chain


class _Run:
    __slots__ = ("start", "end", "place", "kind", "extra")

    def __init__(self, start: int, end: int, place: Place | None, kind: int,
                 extra: object) -> None:
        self.start = start
        self.end = end
        self.place = place  # None: garbage collected (no parent)
        self.kind = kind
        self.extra = extra  # FORMAT: its key; TYPE: the shared type's ref


@dataclass(slots=True)
class Placed:
    """A new item of an update (only its part the document does not have yet) and where it
    goes; `place` None when Yjs would collect it on arrival."""

    struct: Struct
    clock: int
    length: int
    place: Place | None
    prev: Placed | None = None  # the update's previous new item of the same client
    done: bool = False  # placed (while resolving)
    failed: bool = False  # cannot be placed (partial resolving)


@dataclass(slots=True)
class Resolution:
    """What an update would do to the document, judged before applying it."""

    data: bytes = b""  # the update's bytes (its ANY values are read from there)
    items: list[Placed] = field(default_factory=list)
    # existing, not yet deleted items it deletes: (client, clock, length, run kind, run place,
    # run extra), one entry per run touched
    deletes: list[tuple[int, int, int, int, Place | None, object]] = field(default_factory=list)
    new_deletes: list[tuple[int, int, int]] = field(default_factory=list)  # of its own items
    missing: str | None = None  # why it cannot be integrated yet (it depends on the unknown)


class StructIndex:
    """Runs of items per client, and deleted ranges, for one document (see module doc)."""

    __slots__ = ("_runs", "_starts", "_deleted", "_places", "max_type_depth")

    def __init__(self, max_type_depth: int = MAX_TYPE_DEPTH) -> None:
        self._runs: dict[int, list[_Run]] = {}
        self._starts: dict[int, list[int]] = {}
        self._deleted: dict[int, list[list[int]]] = {}  # client -> sorted [start, end)
        self._places: dict[tuple[str | ID, str | None], Place] = {}
        self.max_type_depth = max_type_depth

    # ---- queries -----------------------------------------------------------------------------

    def state(self, client: int) -> int:
        runs = self._runs.get(client)
        return runs[-1].end if runs else 0

    def state_vector(self) -> dict[int, int]:
        return {client: runs[-1].end for client, runs in self._runs.items() if runs}

    def _find(self, client: int, clock: int) -> _Run | None:
        starts = self._starts.get(client)
        if not starts:
            return None
        i = bisect_right(starts, clock) - 1
        if i < 0:
            return None
        run = self._runs[client][i]
        return run if clock < run.end else None

    def place_of(self, item: ID) -> tuple[Place | None, int] | None:
        """(place, content kind) of a known item, None if unknown."""
        run = self._find(*item)
        return None if run is None else (run.place, run.kind)

    def is_deleted(self, client: int, clock: int) -> bool:
        ranges = self._deleted.get(client)
        if not ranges:
            return False
        i = bisect_right(ranges, [clock, float("inf")]) - 1
        return i >= 0 and clock < ranges[i][1]

    def __len__(self) -> int:
        return sum(len(runs) for runs in self._runs.values())

    # ---- judging an update -------------------------------------------------------------------

    def resolve(self, update: Update, *, check_depth: bool = True, partial: bool = False,
                too_deep: list[Struct] | None = None) -> Resolution:
        """Where `update`'s new items go and which existing items it deletes, without changing
        the index. Sets `missing` if it depends on anything neither here nor in it; with
        `partial`, places what it can and leaves the rest out instead (a stored state).
        A shared type nested deeper than allowed raises UpdateError (with `check_depth`), or
        is listed in `too_deep` when that list is given."""
        result = Resolution(data=update.data)
        by_client: dict[int, list[Placed]] = {}
        starts: dict[int, list[int]] = {}
        broken: set[int] = set()  # clients whose structs stop at a gap (partial)
        for struct in update.structs:
            if struct.client in broken:
                continue
            items = by_client.setdefault(struct.client, [])
            have = items[-1].clock + items[-1].length if items else self.state(struct.client)
            end = struct.clock + struct.length
            if end <= have:
                continue  # already in the document
            if struct.clock > have or struct.kind == SKIP:
                result.missing = f"it skips clocks of client {struct.client}"
                if not partial:
                    return result
                broken.add(struct.client)
                continue
            offset = have - struct.clock
            items.append(Placed(struct, have, struct.length - offset, None,
                                items[-1] if items else None))
            starts.setdefault(struct.client, []).append(have)
        # place every new item, dependencies first (explicit stack: chains can be long)
        known: dict[int, int] = {}  # the index's state per client, looked up once
        order: list[Placed] = []
        any_failed = False
        for items in by_client.values():
            for item in items:
                if item.done or item.failed:
                    continue
                dependency = self._unplaced_dependency(item, by_client, starts, known)
                if dependency is None:  # the common case: everything it needs is placed
                    self._settle(item, by_client, starts, order, check_depth, too_deep)
                    continue
                stack = [item]
                on_stack = {id(item)}
                while stack:
                    current = stack[-1]
                    dependency = self._unplaced_dependency(current, by_client, starts, known)
                    if dependency is not None and dependency is not False and (
                            dependency.failed or id(dependency) in on_stack):
                        dependency = False  # a cycle: Yjs could never integrate it either
                    if dependency is False:
                        result.missing = "it depends on an item the document does not have"
                        if not partial:
                            return result
                        any_failed = True
                        for waiting in stack:
                            waiting.failed = True
                        break
                    if dependency is not None:
                        stack.append(dependency)
                        on_stack.add(id(dependency))
                        continue
                    self._settle(current, by_client, starts, order, check_depth, too_deep)
                    stack.pop()
                    on_stack.discard(id(current))
        result.items = order
        if any_failed:  # keep the index contiguous: a client's items after a failed one are out
            for items in by_client.values():
                for i, item in enumerate(items):
                    if item.failed:
                        cut = {id(later) for later in items[i:]}
                        result.items = [x for x in result.items if id(x) not in cut]
                        break
        self._resolve_deletes(update, by_client, starts, result, partial)
        return result

    def _lookup_new(self, item_id: ID, by_client: dict[int, list[Placed]],
                    starts: dict[int, list[int]]) -> Placed | None:
        client_starts = starts.get(item_id[0])
        if not client_starts:
            return None
        i = bisect_right(client_starts, item_id[1]) - 1
        if i < 0:
            return None
        item = by_client[item_id[0]][i]
        return item if item_id[1] < item.clock + item.length else None

    def _settle(self, item: Placed, by_client: dict[int, list[Placed]],
                starts: dict[int, list[int]], order: list[Placed], check_depth: bool,
                too_deep: list[Struct] | None) -> None:
        """Place `item` (everything it needs is placed) and check how deep its type nests."""
        item.place = place = self._place(item, by_client, starts)
        if (item.struct.kind == TYPE and place is not None
                and place.depth + 1 > self.max_type_depth):
            if too_deep is not None:
                too_deep.append(item.struct)
            elif check_depth:
                raise UpdateError(f"shared types nest deeper than {self.max_type_depth} levels",
                                  malformed=False)
        item.done = True
        order.append(item)

    def _unplaced_dependency(self, item: Placed, by_client: dict[int, list[Placed]],
                             starts: dict[int, list[int]],
                             known: dict[int, int]) -> Placed | Literal[False] | None:
        """The first in-update item `item` needs placed before itself; None if none; False if a
        dependency is nowhere to be found."""
        prev = item.prev
        if prev is not None and not prev.done:
            return prev  # Yjs integrates a client's items in clock order
        struct = item.struct
        # a trimmed item's left is its own past (known, or `prev`) instead of its origin
        origin = struct.origin if item.clock == struct.clock else None
        for need in (origin, struct.right, struct.parent):
            if need is None or isinstance(need, str):
                continue
            state = known.get(need[0])
            if state is None:
                state = known[need[0]] = self.state(need[0])
            if need[1] < state:
                continue
            other = self._lookup_new(need, by_client, starts)
            if other is None:
                return False
            if other is not item and not other.done:
                return other
        return None

    def _where(self, item_id: ID, by_client: dict[int, list[Placed]],
               starts: dict[int, list[int]]) -> tuple[Place | None, int, object]:
        run = self._find(*item_id)
        if run is not None:
            return run.place, run.kind, run.extra
        other = self._lookup_new(item_id, by_client, starts)
        assert other is not None
        struct = other.struct
        extra = struct.format_key if struct.kind == FORMAT else struct.type_ref
        return other.place, struct.kind, extra

    def _place(self, item: Placed, by_client: dict[int, list[Placed]],
               starts: dict[int, list[int]]) -> Place | None:
        struct = item.struct
        left = right = None
        if item.clock != struct.clock:
            left = self._where((struct.client, item.clock - 1), by_client, starts)
        elif struct.origin is not None:
            left = self._where(struct.origin, by_client, starts)
        if struct.right is not None:
            right = self._where(struct.right, by_client, starts)
        if (left is not None and left[1] == GC) or (right is not None and right[1] == GC):
            return None
        parent = struct.parent
        if parent is None or item.clock != struct.clock and left is not None:
            neighbour = left if left is not None else right
            if neighbour is None:
                return None
            return neighbour[0]
        if isinstance(parent, str):
            return self._intern(parent, struct.key, 0, parent)
        holder = self._where(parent, by_client, starts)
        if holder[1] == GC or holder[0] is None or self.is_deleted(*parent):
            return None  # under a collected or deleted parent: collected on arrival
        if holder[1] != TYPE:
            # Yjs would collect it; Yrs fails part-way through the update instead
            raise UpdateError("an item's parent is not a shared type", malformed=False)
        return self._intern(parent, struct.key, holder[0].depth + 1, holder[0].root)

    def _intern(self, parent: str | ID, key: str | None, depth: int, root: str) -> Place:
        place = self._places.get((parent, key))
        if place is None:
            place = self._places[(parent, key)] = Place(parent, key, depth, root)
        return place

    def _resolve_deletes(self, update: Update, by_client: dict[int, list[Placed]],
                         starts: dict[int, list[int]], result: Resolution,
                         partial: bool) -> None:
        for client, clock, length in update.deletes:
            end = clock + length
            known = self.state(client)
            if clock < known:
                for a, b in self._undeleted(client, clock, min(end, known)):
                    self._runs_between(client, a, b, result)
            if end > known:
                new = by_client.get(client)
                have = new[-1].clock + new[-1].length if new else known
                if end > have:
                    result.missing = "it deletes items the document does not have"
                    if not partial:
                        return
                    end = have
                if end > known:
                    result.new_deletes.append((client, known if clock < known else clock,
                                               end - max(clock, known)))

    def _undeleted(self, client: int, start: int, end: int) -> list[tuple[int, int]]:
        """The parts of [start, end) not deleted yet."""
        ranges = self._deleted.get(client) or []
        out: list[tuple[int, int]] = []
        i = max(0, bisect_right(ranges, [start, float("inf")]) - 1)
        at = start
        while at < end:
            if i < len(ranges) and ranges[i][0] <= at:
                if ranges[i][1] > at:
                    at = ranges[i][1]
                i += 1
                continue
            stop = min(end, ranges[i][0]) if i < len(ranges) else end
            if stop > at:
                out.append((at, stop))
            at = stop
        return out

    def _runs_between(self, client: int, start: int, end: int, result: Resolution) -> None:
        starts = self._starts[client]
        runs = self._runs[client]
        i = max(0, bisect_right(starts, start) - 1)
        while i < len(runs) and runs[i].start < end:
            run = runs[i]
            a, b = max(start, run.start), min(end, run.end)
            if a < b:
                result.deletes.append((client, a, b - a, run.kind, run.place, run.extra))
            i += 1

    # ---- learning what the document integrated -----------------------------------------------

    def add(self, resolution: Resolution) -> None:
        """Record what the document integrated (`resolve` of the update it applied)."""
        for item in resolution.items:
            struct = item.struct
            client = struct.client
            runs = self._runs.get(client)
            if runs is None:
                runs = self._runs[client] = []
                self._starts[client] = []
            kind = struct.kind
            extra = (struct.format_key if kind == FORMAT else
                     struct.type_ref if kind == TYPE else None)
            last = runs[-1] if runs else None
            if (last is not None and last.end == item.clock and last.place is item.place
                    and last.kind == kind and kind != FORMAT and kind != TYPE):
                last.end += item.length
                continue
            runs.append(_Run(item.clock, item.clock + item.length, item.place, kind, extra))
            self._starts[client].append(item.clock)
        for client, clock, length, *_ in resolution.deletes:
            self._mark_deleted(client, clock, clock + length)
        for client, clock, length in resolution.new_deletes:
            self._mark_deleted(client, clock, clock + length)

    def _mark_deleted(self, client: int, start: int, end: int) -> None:
        ranges = self._deleted.setdefault(client, [])
        i = bisect_right(ranges, [start, float("inf")])
        # merge with the range before and every range it reaches
        if i > 0 and ranges[i - 1][1] >= start:
            i -= 1
            start = ranges[i][0]
            end = max(end, ranges[i][1])
            del ranges[i]
        while i < len(ranges) and ranges[i][0] <= end:
            end = max(end, ranges[i][1])
            del ranges[i]
        ranges.insert(i, [start, end])
