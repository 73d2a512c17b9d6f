"""A tiny y-websocket client on pycrdt + websockets, local to the interop tests.

It speaks the same protocol as the browser: STEP1 and awareness on open, STEP2 in reply to
the server's STEP1, one UPDATE message per local transaction, awareness on change.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from pycrdt import (
    Awareness,
    Doc,
    TransactionEvent,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
)
from websockets.asyncio.client import ClientConnection, connect

QUERY_AWARENESS = 3


class YClient:
    """One Doc + Awareness kept in sync with a y-websocket server over one socket."""

    def __init__(self, websocket: ClientConnection) -> None:
        self.doc = Doc()
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)  # no state until the test sets one
        self.synced = asyncio.Event()
        self._websocket = websocket
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()
        self._applying_remote = False
        self.doc.observe(self._on_transaction)

    def _on_transaction(self, event: TransactionEvent) -> None:
        # Remote updates are already on the server: only forward what this client did itself.
        if not self._applying_remote:
            self._outbox.put_nowait(create_update_message(event.update))

    def _awareness_message(self) -> bytes:
        update = self.awareness.encode_awareness_update([self.awareness.client_id])
        return create_awareness_message(update)

    def set_awareness(self, state: dict[str, Any] | None) -> None:
        """Set this client's awareness state and tell the server."""
        self.awareness.set_local_state(state)
        self._outbox.put_nowait(self._awareness_message())

    async def _send_loop(self) -> None:
        while True:
            await self._websocket.send(await self._outbox.get())

    async def _receive_loop(self) -> None:
        async for message in self._websocket:
            assert isinstance(message, bytes), "y-websocket frames are binary"
            self._handle(message)

    def _handle(self, message: bytes) -> None:
        if message[0] == YMessageType.SYNC:
            self._applying_remote = True
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                self._applying_remote = False
            if reply is not None:
                self._outbox.put_nowait(reply)
            if message[1] == YSyncMessageType.SYNC_STEP2:
                self.synced.set()
        elif message[0] == YMessageType.AWARENESS:
            self.awareness.apply_awareness_update(read_message(message[1:]), "remote")
        elif message[0] == QUERY_AWARENESS and self.awareness.get_local_state() is not None:
            self._outbox.put_nowait(self._awareness_message())

    def remote_states(self) -> dict[int, dict[str, Any]]:
        """Awareness states of the other clients."""
        return {k: v for k, v in self.awareness.states.items() if k != self.awareness.client_id}

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds (checked every 20 ms) or fail the test."""
        async with asyncio.timeout(timeout):
            while not predicate():
                await asyncio.sleep(0.02)


@asynccontextmanager
async def yclient(url: str, *, sync_timeout: float = 10.0) -> AsyncIterator[YClient]:
    """Connect to a room URL (``ws://host:port/ws/<doc_id>``) and yield once synced."""
    async with connect(url, compression=None, max_size=None) as websocket:
        client = YClient(websocket)
        await websocket.send(create_sync_message(client.doc))
        async with asyncio.TaskGroup() as tasks:
            loops = [tasks.create_task(client._send_loop()),
                     tasks.create_task(client._receive_loop())]
            try:
                async with asyncio.timeout(sync_timeout):
                    await client.synced.wait()
                yield client
                # Leave like the browser does: withdraw our awareness before closing.
                if client.awareness.get_local_state() is not None:
                    client.awareness.set_local_state(None)
                    await websocket.send(client._awareness_message())
            finally:
                for loop in loops:
                    loop.cancel()
