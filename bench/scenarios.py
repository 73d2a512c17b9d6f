"""Scenario sizes (full and --tiny) and the config each run hands to ``load.mjs``."""

from __future__ import annotations

import os
from typing import Any

from .servers import QUIRE_SERVERS, ServerProcess

SCENARIOS = ("fanout", "throughput", "manydocs", "cold", "connections")
# These run every round (their figures are noisy: this VM's speed drifts by a third between
# runs minutes apart, so the open rate of manydocs is a median over rounds too); cold once per
# run (it takes 5 samples itself).
EVERY_ROUND = ("fanout", "throughput", "manydocs", "connections")

FULL: dict[str, dict[str, Any]] = {
    "fanout": {"sizes": [2, 10, 50],
               "typing": {"keystrokes": 150, "intervalMs": 20, "warmup": 5, "timeoutMs": 15000}},
    "throughput": {"updates": 5000, "receivers": 10, "chunk": 100, "settleMs": 500},
    "manydocs": {"docs": 1000, "bytes": 1000, "edits": 10, "holdMs": 3000, "verifyWindow": 100},
    "cold": {"chars": 100_000, "editsPerUpdate": 100, "maxRun": 40, "samples": 5},
    "connections": {"clients": 1000, "users": 50, "joinWindow": 20, "seatTimeoutMs": 60000,
                    "settleMs": 1000,
                    "typing": {"keystrokes": 10, "intervalMs": 200, "warmup": 0,
                               "timeoutMs": 30000}},
}

TINY: dict[str, dict[str, Any]] = {
    "fanout": {"sizes": [2, 5],
               "typing": {"keystrokes": 15, "intervalMs": 20, "warmup": 2, "timeoutMs": 10000}},
    "throughput": {"updates": 300, "receivers": 3, "chunk": 50, "settleMs": 200},
    "manydocs": {"docs": 20, "bytes": 1000, "edits": 10, "holdMs": 300, "verifyWindow": 10},
    "cold": {"chars": 3000, "editsPerUpdate": 50, "maxRun": 40, "samples": 2},
    "connections": {"clients": 20, "users": 5, "joinWindow": 5, "seatTimeoutMs": 15000,
                    "settleMs": 200,
                    "typing": {"keystrokes": 3, "intervalMs": 50, "warmup": 0,
                               "timeoutMs": 10000}},
}

# Whole-run limits for one load.mjs process (seconds): a stalled server fails its run, not the suite.
TIMEOUT = {"fanout": 120, "throughput": 90, "manydocs": 180, "cold": 180, "connections": 150}


def room_count(scenario: str, sizes: dict[str, Any]) -> int:
    if scenario == "fanout":
        return len(sizes["fanout"]["sizes"])
    if scenario == "manydocs":
        return sizes["manydocs"]["docs"]
    return 1


def load_config(scenario: str, sizes: dict[str, Any], server: ServerProcess,
                rooms: list[str]) -> dict[str, Any]:
    """Everything ``load.mjs`` needs for one scenario against one server."""
    params = dict(sizes[scenario])
    config: dict[str, Any] = {
        "scenario": scenario,
        "target": server.target(),
        "rooms": rooms,
        "pid": server.pid,
        "clockTicks": os.sysconf("SC_CLK_TCK"),
        "timeoutMs": 30000,
    }
    if scenario == "fanout":
        config.update(sizes=params["sizes"], typing=params["typing"])
    elif scenario == "cold":
        # Quire must load from its database: restart it before every sample.
        config["cold"] = {**params, "restart": server.key in QUIRE_SERVERS}
    else:
        config[scenario] = params
    return config
