"""pycrdt's `observe`/`observe_deep`, without reading the callback's signature every time.

pycrdt asks `inspect.signature(callback)` on every subscription, to know whether the callback
also takes the transaction. A room subscribes three times when it loads (who wrote what, the
comment threads, the title), always with the same few methods, and `inspect.signature` of a
bound method costs more than the rest of the subscription: about a twentieth of the server's
work to open a document. So the signature of each function is read once and remembered
by its code object (closures made by one `def` share it); other callables are asked as before.

`install()` swaps pycrdt's module-level `signature` for this one; pycrdt is pinned
(pyproject.toml), and tests/crdt/test_observing.py fails if its `observe` stops reading
`signature` from there.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable
from typing import Any

# by code object, and whether bound (a method's signature leaves out its first parameter):
# closures made by one `def`, a new function object each time, share an entry
_signatures: dict[tuple[types.CodeType, bool], inspect.Signature] = {}
MAX_REMEMBERED = 10_000


def remembered_signature(callback: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature(callback)`, remembered for functions and bound methods (pycrdt reads
    only how many parameters it has)."""
    bound = isinstance(callback, types.MethodType)
    func = callback.__func__ if isinstance(callback, types.MethodType) else callback
    if not isinstance(func, types.FunctionType):
        return inspect.signature(callback)
    key = (func.__code__, bound)
    found = _signatures.get(key)
    if found is None:
        found = inspect.signature(callback)
        if len(_signatures) < MAX_REMEMBERED:
            _signatures[key] = found
    return found


def install() -> None:
    """Make pycrdt's `observe` and `observe_deep` use `remembered_signature`."""
    from pycrdt import _base

    setattr(_base, "signature", remembered_signature)  # noqa: B010  (a module global)
