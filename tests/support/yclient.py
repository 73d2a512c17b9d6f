"""A small y-websocket client on pycrdt, for tests: a real socket, a real Doc, awareness."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import websockets
from pycrdt import (
    Awareness,
    Decoder,
    Doc,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_sync_message,
    create_update_message,
    handle_sync_message,
)


class YClient:
    def __init__(self, url: str, doc: Doc | None = None,
                 headers: dict[str, str] | None = None) -> None:
        self.url = url
        self.headers = headers or {}
        self.doc = doc or Doc()
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)
        self.synced = asyncio.Event()
        self.closed = asyncio.Event()
        self.close_code: int | None = None
        self.close_reason: str = ""
        self.persisted_sv: bytes | None = None
        self.received: list[bytes] = []
        self.ws: Any = None
        self._remote = False
        self._reader: asyncio.Task | None = None
        self._sub = self.doc.observe(self._on_local)
        self._aw_sub = self.awareness.observe(self._on_awareness)

    async def connect(self, timeout: float = 5) -> YClient:
        self.synced.clear()
        self.closed.clear()
        self.ws = await websockets.connect(self.url, max_size=None, compression=None,
                                           additional_headers=self.headers)
        self._reader = asyncio.create_task(self._read())
        await self._safe_send(create_sync_message(self.doc))  # the server may refuse at once
        if self.awareness.get_local_state() is not None:
            await self._send_awareness([self.doc.client_id])
        return self

    async def wait_synced(self, timeout: float = 5) -> None:
        await asyncio.wait_for(self.synced.wait(), timeout)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader

    async def send_raw(self, data: bytes | str) -> None:
        await self.ws.send(data)

    async def set_user(self, state: dict | None) -> None:
        self.awareness.set_local_state(state)

    def set_awareness(self, state: dict | None) -> None:
        """Set this client's awareness state; it is sent to the server at once."""
        self.awareness.set_local_state(state)

    def remote_states(self) -> dict[int, dict[str, Any]]:
        """Awareness states of the other clients."""
        return {k: v for k, v in self.awareness.states.items() if k != self.doc.client_id}

    async def wait_until(self, predicate, timeout: float = 10.0) -> None:
        """Wait until `predicate()` holds or fail the test."""
        await eventually(predicate, timeout=timeout)

    def _on_local(self, event) -> None:
        if self._remote or self.ws is None:
            return
        message = create_update_message(event.update)
        asyncio.get_running_loop().create_task(self._safe_send(message))

    def _on_awareness(self, topic, payload) -> None:
        changes, origin = payload
        if topic == "update" and origin == "local" and self.ws is not None:
            asyncio.get_running_loop().create_task(self._send_awareness([self.doc.client_id]))

    async def _send_awareness(self, ids: list[int]) -> None:
        await self._safe_send(create_awareness_message(self.awareness.encode_awareness_update(ids)))

    async def _safe_send(self, message: bytes) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send(message)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if isinstance(message, str):
                    continue
                self.received.append(message)
                kind = message[0]
                if kind == YMessageType.SYNC:
                    self._remote = True
                    try:
                        reply = handle_sync_message(message[1:], self.doc)
                    finally:
                        self._remote = False
                    if reply is not None:
                        await self.ws.send(reply)
                    if message[1] == YSyncMessageType.SYNC_STEP2:
                        self.synced.set()
                elif kind == YMessageType.AWARENESS:
                    payload = Decoder(message[1:]).read_message()
                    self.awareness.apply_awareness_update(payload, "remote")
                elif kind == 100:
                    self.persisted_sv = Decoder(message[1:]).read_message()
        except websockets.ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.close_reason = self.ws.close_reason or ""
            self.closed.set()


async def joined(server, doc_id: str, doc: Doc | None = None, **params: str) -> YClient:
    """A client of `server`'s document (as its test user), connected and synced."""
    client = YClient(server.ws(doc_id, **params), doc=doc)
    await client.connect()
    await client.wait_synced()
    return client


@contextlib.asynccontextmanager
async def open_client(url: str, *, sync_timeout: float = 10.0):
    """A synced client for the block; on leaving it withdraws its awareness, as a browser
    does, then closes."""
    client = YClient(url)
    await client.connect()
    await client.wait_synced(sync_timeout)
    try:
        yield client
    finally:
        if client.awareness.get_local_state() is not None and not client.closed.is_set():
            client.awareness.set_local_state(None)
            await asyncio.sleep(0.05)  # let the withdrawal go out before the socket closes
        await client.close()


def decode_state_vector(data: bytes) -> dict[int, int]:
    """client id -> clock, from an encoded Yjs state vector."""
    decoder = Decoder(data)
    return {decoder.read_var_uint(): decoder.read_var_uint()
            for _ in range(decoder.read_var_uint())}


async def eventually(predicate, timeout: float = 5.0, interval: float = 0.02) -> None:
    """Wait until `predicate()` is true; fail with a clear message after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if predicate():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(interval)
