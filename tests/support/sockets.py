"""How a server answered a WebSocket: its first frame, or how and when it closed it."""

from __future__ import annotations

import asyncio

import pytest
import websockets


async def first_frame(ws) -> bytes:
    """The server's first message (its sync step 1 when the socket was accepted)."""
    frame = await asyncio.wait_for(ws.recv(), 5)
    assert isinstance(frame, bytes) and frame[:2] == b"\x00\x00", frame[:8]
    return frame


async def closed_with(ws, timeout: float = 5.0) -> tuple[int | None, str]:
    """Wait for the server to close `ws` (reading and dropping whatever comes first)."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except websockets.ConnectionClosed:
        return ws.close_code, ws.close_reason or ""
    except TimeoutError:
        return None, ""


async def refused_before_any_data(ws) -> tuple[int | None, str]:
    """The server closes `ws` without having sent a single message."""
    with pytest.raises(websockets.ConnectionClosed):
        frame = await asyncio.wait_for(ws.recv(), 5)
        pytest.fail(f"the server sent document data: {frame[:16]!r}")
    return ws.close_code, ws.close_reason or ""
