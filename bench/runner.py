"""Run ``load.mjs`` for one scenario against one server and answer its control requests."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from .servers import BENCH, ServerProcess

LOAD = BENCH / "load.mjs"


class LoadError(RuntimeError):
    """The load generator failed, timed out or reported an error."""


def run_load(config: dict[str, Any], server: ServerProcess, *, timeout: float,
             log_path: Path) -> dict[str, Any]:
    """Start ``node load.mjs``, feed it ``config``, serve its requests, return its result."""
    with log_path.open("ab") as log:
        process = subprocess.Popen(["node", str(LOAD)], cwd=BENCH, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdin is not None and process.stdout is not None
    timer = threading.Timer(timeout, process.kill)
    timer.start()
    final: dict[str, Any] | None = None
    try:
        process.stdin.write(json.dumps(config) + "\n")
        process.stdin.flush()
        for line in process.stdout:
            message = json.loads(line)
            if "control" in message:
                answer = _control(message["control"], server)
                process.stdin.write(json.dumps(answer) + "\n")
                process.stdin.flush()
            else:
                final = message
        process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    if final is None:
        raise LoadError(f"load.mjs ended without a result (exit {process.returncode}, "
                        f"timeout {timeout}s?)")
    if "error" in final:
        raise LoadError(final["error"])
    return final["result"]


def _control(request: dict[str, Any], server: ServerProcess) -> dict[str, Any]:
    if request.get("action") == "restart":
        started = time.monotonic()
        server.restart()
        return {"pid": server.pid, "restart_s": time.monotonic() - started}
    raise LoadError(f"unknown control request {request!r}")
