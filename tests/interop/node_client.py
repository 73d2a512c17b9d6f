"""Drive the official Yjs client (``client.mjs``) from a test, one JSON line per command."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "client.mjs"


class NodeClientError(RuntimeError):
    """The Node client answered a command with an error."""


class NodeClient:
    """One y-websocket provider with its own Y.Doc, living in a Node subprocess."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()

    async def request(self, cmd: str, timeout: float = 15.0, **args: Any) -> dict[str, Any]:
        """Send one command and return its reply (raises NodeClientError on failure)."""
        assert self._process.stdin is not None and self._process.stdout is not None
        async with self._lock:
            request_id = next(self._ids)
            line = json.dumps({"id": request_id, "cmd": cmd, **args}) + "\n"
            self._process.stdin.write(line.encode())
            await self._process.stdin.drain()
            raw = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        if not raw:
            raise NodeClientError(f"node client exited (code {self._process.returncode})")
        reply = json.loads(raw)
        if reply.get("id") != request_id or not reply.get("ok"):
            raise NodeClientError(reply.get("error", f"unexpected reply {reply!r}"))
        return reply

    async def connect(self, ws_base: str, room: str, *, wait: bool = True, **params: str) -> int:
        """Connect to ``ws_base/room`` and (with ``wait``) wait for the first sync; returns the
        Yjs clientID."""
        reply = await self.request("connect", url=ws_base, room=room, params=params, wait=wait)
        return int(reply["clientID"])

    async def insert_text(self, name: str, text: str, index: int = -1) -> None:
        await self.request("insert_text", name=name, text=text, index=index)

    async def xml_append(self, text: str, *, name: str = "default", tag: str = "paragraph",
                         attrs: dict[str, Any] | None = None) -> None:
        await self.request("xml_append", name=name, tag=tag, text=text, attrs=attrs or {})

    async def set_awareness(self, state: dict[str, Any] | None) -> None:
        await self.request("set_awareness", state=state)

    async def state(self, texts: list[str] | None = None,
                    xml: list[str] | None = None) -> dict[str, Any]:
        return await self.request("state", texts=texts or [], xml=xml or [])

    async def wait_state(self, predicate: Callable[[dict[str, Any]], bool], *,
                         texts: list[str] | None = None, xml: list[str] | None = None,
                         timeout: float = 10.0) -> dict[str, Any]:
        """Poll ``state`` until ``predicate`` holds; return the last state or fail the test."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            state = await self.state(texts, xml)
            if predicate(state):
                return state
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"node client never reached the expected state: {state}")
            await asyncio.sleep(0.05)


def node_available() -> bool:
    """True when node and the installed packages are there."""
    return shutil.which("node") is not None and (HERE / "node_modules" / "y-websocket").is_dir()


@asynccontextmanager
async def node_client() -> AsyncIterator[NodeClient]:
    """Start a Node client process; on exit close its stdin and wait for it."""
    process = await asyncio.create_subprocess_exec(
        "node", str(SCRIPT), cwd=HERE,
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )
    try:
        yield NodeClient(process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
