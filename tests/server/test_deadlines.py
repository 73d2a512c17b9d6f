"""`Deadlines` (server/waiting.py): what the search indexer and the version keeper wait on.

| what happens                                   | what `Deadlines` answers                     |
|------------------------------------------------|----------------------------------------------|
| keys set in any order                          | taken soonest first, each once               |
| a key set again (earlier or later)             | only its last moment counts                  |
| a key discarded                                | never taken                                  |
| a moment not yet come                          | nothing to take; `soonest` says when         |
| a newcomer later than the soonest              | `at` says there is no need to wake anyone    |
| 5,000 keys set 20,000 times, 500 discarded     | the rest taken once each, by last moment     |
"""

from __future__ import annotations

import random

from server.waiting import Deadlines


def _drain(deadlines: Deadlines[str], now: float) -> list[str]:
    taken = []
    while (key := deadlines.pop_due(now)) is not None:
        taken.append(key)
    return taken


def test_keys_are_taken_soonest_first_and_only_at_their_last_moment():
    deadlines: Deadlines[str] = Deadlines()
    assert deadlines.soonest() is None and deadlines.pop_due(1e9) is None
    assert deadlines.at("b", 20.0)  # the only one: the soonest
    assert deadlines.at("a", 10.0)  # sooner than b
    assert not deadlines.at("c", 30.0)  # later than a: nobody need wake
    deadlines.at("b", 5.0)  # moved sooner
    deadlines.at("a", 40.0)  # moved later
    deadlines.at("d", 15.0)
    deadlines.discard("d")
    assert len(deadlines) == 3 and deadlines.soonest() == 5.0
    assert _drain(deadlines, 4.9) == []
    assert _drain(deadlines, 35.0) == ["b", "c"]
    assert deadlines.soonest() == 40.0
    assert _drain(deadlines, 40.0) == ["a"]
    assert len(deadlines) == 0 and deadlines.soonest() is None


def test_a_crowd_is_taken_in_order_once_each():
    rng = random.Random(7)
    deadlines: Deadlines[str] = Deadlines()
    want = {}
    for n in range(20_000):
        key = f"doc-{n % 5000}"  # each key set four times; the last moment counts
        want[key] = rng.uniform(0, 100)
        deadlines.at(key, want[key])
    for key in list(want)[:500]:
        deadlines.discard(key)
        del want[key]
    taken = _drain(deadlines, 100.0)
    assert taken == sorted(want, key=want.__getitem__)
    assert len(deadlines) == 0 and deadlines.pop_due(1e9) is None
