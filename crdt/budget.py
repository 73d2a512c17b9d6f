"""A time budget for CPU work on user input (Markdown, diffs, restores).

Python cannot stop a thread from outside, so work that a person's input can make slow checks a
`Deadline` at its loop boundaries and gives up with `BudgetExceeded` once the time is spent.
The callers turn that into a clear answer ("too complex to convert in N s") instead of letting
one request hold a worker thread for minutes. `Deadline(None)` never expires (the CLI, tests).
"""

from __future__ import annotations

import time

__all__ = ["BudgetExceeded", "Deadline"]


class BudgetExceeded(Exception):
    """The work ran out of its time budget (the input is too large or too complex)."""


class Deadline:
    """Raise `BudgetExceeded` from `check()` once `seconds` have passed since it was made."""

    __slots__ = ("seconds", "at", "_calls")

    # `tick()` looks at the clock once per this many calls: cheap enough for per-token loops
    TICK = 256

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self.at = float("inf") if seconds is None else time.monotonic() + seconds
        self._calls = 0

    def remaining(self) -> float:
        """Seconds left (never negative; `inf` without a limit)."""
        return max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        """Raise `BudgetExceeded` if the budget is spent."""
        if time.monotonic() > self.at:
            raise BudgetExceeded(f"gave up after {self.seconds:g} s")

    def tick(self) -> None:
        """`check()`, but only every TICK calls (for tight loops)."""
        self._calls += 1
        if self._calls >= self.TICK:
            self._calls = 0
            self.check()
