"""Open one client on each of many documents and hold them while something is measured: the
same Node client as ``manydocs`` (``bench/js/open_held.mjs``: 50 handshakes in flight), for
``bench/instructions.py`` and ``bench/collector.py``."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

from bench.servers import BENCH, ServerProcess

OPEN_HELD = BENCH / "js" / "open_held.mjs"


def open_held(server: ServerProcess, rooms: list[str],
              when_open: Callable[[], Any]) -> tuple[dict[str, Any], Any]:
    """Open a client on each of `rooms`, call `when_open()` as soon as every one is synced (all
    still connected), then close them. Returns what the client said (``seated``, ``ms``: how
    long the open took) and what `when_open` returned; raises if a document did not sync."""
    client = subprocess.Popen(
        ["node", str(OPEN_HELD), json.dumps({"target": server.target(), "rooms": rooms})],
        cwd=BENCH, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout is not None and client.stdin is not None
        opened = json.loads(client.stdout.readline() or "{}")
        found = when_open() if opened.get("seated") == len(rooms) else None
        client.stdin.close()
        client.wait(60)
    finally:
        if client.poll() is None:
            client.kill()
    if opened.get("seated") != len(rooms):
        raise RuntimeError(f"{server.key}: only {opened.get('seated')} of {len(rooms)} "
                           "documents synced")
    return opened, found
