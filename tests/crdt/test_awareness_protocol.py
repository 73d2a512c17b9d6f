"""Which entries of an incoming awareness update are read: exactly those that would change the
room's awareness (pycrdt's rule, which is y-protocols'). Browsers send back every change they
receive at the same clock; in a room of a thousand, reading those echoes was most of the work
of seating people."""

from __future__ import annotations

import json
import time

import pytest
from pycrdt import Awareness, Doc, write_message, write_var_uint

from crdt.protocol import (
    CloseCode,
    ProtocolError,
    encode_awareness_update,
    fresh_awareness,
    parse_frame,
    read_awareness,
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


# ---- limits, checked before any JSON is decoded (crdt/limits.py) -------------------------------

ZOE = {"user": {"name": "Zoë", "color": "#aa3300"}}


def entry_bytes(state: dict) -> int:
    """The length of a state as it travels: UTF-8 bytes of its JSON, not characters."""
    return len(json.dumps(state, separators=(",", ":"), ensure_ascii=False).encode())


def test_too_many_entries_are_refused_before_any_is_read():
    # the count says 100,000 but one entry follows: refused on the count alone
    payload = write_var_uint(100_000) + encode_awareness_update([(9, 1, ZOE)])[1:]
    with pytest.raises(ProtocolError) as refused:
        read_awareness(payload, room_awareness(), max_entries=17)
    assert refused.value.code == CloseCode.POLICY


def test_a_state_is_measured_in_utf8_bytes():
    size = entry_bytes(ZOE)
    assert size == len(json.dumps(ZOE, separators=(",", ":"), ensure_ascii=False)) + 1  # ë
    payload = encode_awareness_update([(9, 1, ZOE)])
    assert read_awareness(payload, room_awareness(), max_state_bytes=size)[0] == [(9, 1, ZOE)]
    with pytest.raises(ProtocolError) as refused:
        read_awareness(payload, room_awareness(), max_state_bytes=size - 1)
    assert refused.value.code == CloseCode.PRESENCE_TOO_LARGE


def test_fresh_states_per_frame_are_limited_but_echoes_are_not_counted():
    awareness = room_awareness()
    for client_id in range(10, 15):
        awareness.apply_awareness_update(encode_awareness_update([(client_id, 2, ZOE)]), "x")
    echoes = [(client_id, 2, ZOE) for client_id in (5, 10, 11, 12, 13, 14)]
    echoes[0] = (5, 3, ADA)
    fresh = [(20, 1, ZOE), (21, 1, ZOE)]
    read = read_awareness(encode_awareness_update(echoes + fresh), awareness, max_states=2)
    assert read == (fresh, False, 8, 2)  # entries read, all of them?, count, states
    with pytest.raises(ProtocolError) as refused:
        read_awareness(encode_awareness_update(fresh + [(22, 1, ZOE)]), awareness, max_states=2)
    assert refused.value.code == CloseCode.POLICY


def test_an_echo_larger_than_the_limit_is_skipped_unread():
    # browsers send back what we sent them, re-encoded: never refused for its size
    big = {"user": {"name": "x" * 5000}}
    awareness = room_awareness()
    awareness.apply_awareness_update(encode_awareness_update([(7, 1, big)]), "x")
    entries, _, count, _ = read_awareness(encode_awareness_update([(7, 1, big)]), awareness,
                                          max_state_bytes=4096)
    assert entries == [] and count == 1


def test_only_a_removal_that_removes_something_is_read():
    awareness = room_awareness()
    awareness.remove_awareness_states([5], "ada left")
    entries, _ = fresh_awareness(encode_awareness_update([(5, 9, None), (8, 1, None)]),
                                 awareness)
    assert entries == []  # pycrdt would bump the clocks and broadcast removals of nothing
    entries, _ = fresh_awareness(encode_awareness_update([(5, 3, None)]), room_awareness())
    assert entries == [(5, 3, None)]


def test_a_relayed_update_is_bounded_like_a_clients():
    update = encode_awareness_update([(client_id, 1, ZOE) for client_id in range(50)])
    assert len(validate_awareness(update, max_entries=50)) == 50
    with pytest.raises(ProtocolError):
        validate_awareness(update, max_entries=49)
    with pytest.raises(ProtocolError):
        validate_awareness(update, max_state_bytes=entry_bytes(ZOE) - 1)


def test_a_run_of_continuation_bytes_is_refused_in_linear_time():
    # pycrdt's Decoder reads any number of them, each slower than the last (hours for 8 MiB)
    for message in (bytes([1]) + b"\xff" * 1_000_000 + b"\x01",
                    bytes([1]) + write_var_uint(1_000_001) + b"\xff" * 1_000_000 + b"\x01"):
        started = time.perf_counter()
        with pytest.raises(ProtocolError):
            frame = parse_frame(message)
            read_awareness(frame.payload, room_awareness())
        assert time.perf_counter() - started < 0.5


def test_a_lone_surrogate_is_sent_on_escaped():
    # JSON.stringify escapes a name cut in the middle of an emoji ("a😀".slice(0, 2)); UTF-8
    # cannot carry it, and encoding it failed the whole room's presence
    state = {"user": {"name": "a\ud83d", "color": "#aa3300"}}
    raw = b'{"user":{"name":"a\\ud83d","color":"#aa3300"}}'
    assert validate_awareness(write_var_uint(1) + b"\x07\x01" + write_message(raw)) == [
        (7, 1, state)]
    assert validate_awareness(encode_awareness_update([(7, 1, state)])) == [(7, 1, state)]
