"""Which entries of an incoming awareness update are read: exactly those that would change the
room's awareness (pycrdt's rule, which is y-protocols'). Browsers send back every change they
receive at the same clock; in a room of a thousand, reading those echoes was most of the work
of seating people."""

from __future__ import annotations

import time

import pytest
from pycrdt import Awareness, Doc, write_message, write_var_uint

from crdt.protocol import (
    ProtocolError,
    encode_awareness_update,
    fresh_awareness,
    parse_frame,
    validate_awareness,
)

ADA = {"user": {"name": "Ada", "color": "#aa3300"}}


def room_awareness() -> Awareness:
    awareness = Awareness(Doc())
    awareness.set_local_state(None)
    awareness.apply_awareness_update(encode_awareness_update([(5, 3, ADA)]), "ada")
    return awareness


def test_only_entries_that_change_something_are_read():
    awareness = room_awareness()
    cases = {
        "older clock": ((5, 2, {"user": {"name": "old"}}), False),
        "same clock, same state (an echo)": ((5, 3, ADA), False),
        "same clock, another state": ((5, 3, {"user": {"name": "forged"}}), False),
        "same clock, removal": ((5, 3, None), True),
        "newer clock": ((5, 4, ADA), True),
        "somebody new": ((6, 1, ADA), True),
    }
    for name, (entry, read) in cases.items():
        entries, every = fresh_awareness(encode_awareness_update([entry]), awareness)
        assert (entries == [entry]) is read, name
        assert every is read, name


def test_what_is_kept_applies_exactly_as_the_whole_update_would():
    update = encode_awareness_update([(5, 3, ADA), (6, 1, {"user": {"name": "Bo"}})])
    whole, kept = room_awareness(), room_awareness()
    whole.apply_awareness_update(update, "x")
    entries, every = fresh_awareness(update, kept)
    assert not every and [e[0] for e in entries] == [6]
    kept.apply_awareness_update(encode_awareness_update(entries), "x")
    assert kept.states == whole.states
    assert [kept.meta[c]["clock"] for c in (5, 6)] == [whole.meta[c]["clock"] for c in (5, 6)]


def test_a_run_of_continuation_bytes_is_refused_in_linear_time():
    # pycrdt's Decoder reads any number of them, each slower than the last (hours for 8 MiB)
    for message in (bytes([1]) + b"\xff" * 1_000_000 + b"\x01",
                    bytes([1]) + write_var_uint(1_000_001) + b"\xff" * 1_000_000 + b"\x01"):
        started = time.perf_counter()
        with pytest.raises(ProtocolError):
            frame = parse_frame(message)
            fresh_awareness(frame.payload, room_awareness())
        assert time.perf_counter() - started < 0.5


def test_a_lone_surrogate_is_sent_on_escaped():
    # JSON.stringify escapes a name cut in the middle of an emoji ("a😀".slice(0, 2)); UTF-8
    # cannot carry it, and encoding it failed the whole room's presence
    state = {"user": {"name": "a\ud83d", "color": "#aa3300"}}
    raw = b'{"user":{"name":"a\\ud83d","color":"#aa3300"}}'
    assert validate_awareness(write_var_uint(1) + b"\x07\x01" + write_message(raw)) == [
        (7, 1, state)]
    assert validate_awareness(encode_awareness_update([(7, 1, state)])) == [(7, 1, state)]
