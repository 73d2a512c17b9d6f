"""crdt/observing.py: pycrdt's observers with each callback's signature read once."""

from __future__ import annotations

import inspect

from pycrdt import Doc, Map, _base

from crdt import observing
from crdt.room import Room  # noqa: F401  (installs the remembered signatures)


class Watcher:
    def __init__(self) -> None:
        self.seen: list[tuple] = []

    def one(self, event) -> None:
        self.seen.append(("one", sorted(event.keys)))

    def two(self, event, txn) -> None:
        self.seen.append(("two", txn is not None))


def test_pycrdt_reads_the_remembered_signature():
    assert _base.signature is observing.remembered_signature


def test_observers_still_get_what_their_signature_asks_for():
    doc: Doc = Doc()
    m = doc.get("m", type=Map)
    a, b = Watcher(), Watcher()
    for watcher in (a, b):
        m.observe(watcher.one)
        m.observe(watcher.two)
    m["k"] = 1
    assert sorted(a.seen) == [("one", ["k"]), ("two", True)]
    assert sorted(b.seen) == sorted(a.seen)


def test_a_signature_is_read_once_per_function():
    first = observing.remembered_signature(Watcher().two)
    again = observing.remembered_signature(Watcher().two)
    assert first is again and first == inspect.signature(Watcher().two)
    assert list(first.parameters) == ["event", "txn"]
    def closure(n):
        return lambda event: n

    assert observing.remembered_signature(closure(1)) is observing.remembered_signature(closure(2))
    assert len(observing.remembered_signature(print).parameters) == len(
        inspect.signature(print).parameters)
