"""Counters a room registry keeps; `server/metrics.py` exports them to Prometheus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Stats:
    updates_applied: int = 0
    updates_persisted: int = 0
    persist_failures: int = 0
    frames_rejected: int = 0
    updates_refused: int = 0  # from viewers and commenters beyond their role
    updates_quarantined: int = 0  # stored or relayed updates pycrdt could not read safely
    bytes_in: int = 0
    bytes_out: int = 0
    messages_out: int = 0
    compactions: int = 0
    awareness_dropped: int = 0  # presence frames beyond a connection's rate (crdt/limits.py)
    # called with the seconds one group of updates took to become durable
    persist_observers: list[Callable[[float], None]] = field(default_factory=list)

    def observe_persist(self, seconds: float) -> None:
        for observer in self.persist_observers:
            observer(seconds)
