"""`IN (...)` lists for statements that ask about many ids at once.

One bound parameter per id, in statements made once per size (a power of two: the ids are
padded with their last): an "expanding" parameter would be rendered into the SQL again on every
execution, which cost more than the reads. `CHUNK` ids per statement at most."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam

# ids per statement: far below every backend's limit on bound parameters
CHUNK = 128


def slots(size: int) -> int:
    """The statement size that takes `size` ids."""
    return 1 << max(0, size - 1).bit_length()


def bound(prefix: str, values: Sequence[str]) -> dict[str, str]:
    """The parameters of an `in_list(column, prefix, slots(len(values)))`."""
    padded = list(values) + [values[-1]] * (slots(len(values)) - len(values))
    return {f"{prefix}{n}": value for n, value in enumerate(padded)}


def in_list(column: Any, prefix: str, size: int) -> Any:
    return column.in_([bindparam(f"{prefix}{n}") for n in range(size)])


def chunks(values: Sequence[str]) -> list[list[str]]:
    """The distinct `values`, sorted, `CHUNK` at a time."""
    unique = sorted(set(values))
    return [unique[start:start + CHUNK] for start in range(0, len(unique), CHUNK)]
