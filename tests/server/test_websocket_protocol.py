"""The frames Quire's WebSocket protocol writes itself are the ones `websockets` would write."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from server.websocket_protocol import shared_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 300_000])
def test_shared_frame_is_a_standard_binary_frame(size):
    data = bytes(i % 251 for i in range(size))
    expected = Frame(Opcode.BINARY, data).serialize(mask=False, extensions=[])
    assert shared_frame(data) == expected
    assert shared_frame(data) == expected  # the kept copy, for the next recipient


def test_equal_payloads_in_different_objects_are_each_framed():
    first, second = b"a" * 10, b"b" * 10
    assert shared_frame(first)[2:] == first
    assert shared_frame(second)[2:] == second
