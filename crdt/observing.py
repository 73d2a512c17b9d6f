"""pycrdt's `observe`/`observe_deep`, without reading the callback's signature every time.

pycrdt asks `inspect.signature(callback)` on every subscription, to know whether the callback
also takes the transaction. A room subscribes three times when it loads (who wrote what, the
comment threads, the title), always with the same few methods, and `inspect.signature` of a
bound method costs more than the rest of the subscription: about a twentieth of the server's
work to open a document. So the signature of each function is read once and remembered
(weakly: a function that goes away is forgotten); other callables are asked as before.

`install()` swaps pycrdt's module-level `signature` for this one; pycrdt is pinned
(pyproject.toml), and tests/crdt/test_observing.py fails if its `observe` stops reading
`signature` from there.
"""

from __future__ import annotations

import inspect
import types
import weakref
from collections.abc import Callable
from typing import Any

_methods: weakref.WeakKeyDictionary[Callable[..., Any], inspect.Signature] = (
    weakref.WeakKeyDictionary())
_functions: weakref.WeakKeyDictionary[Callable[..., Any], inspect.Signature] = (
    weakref.WeakKeyDictionary())


def remembered_signature(callback: Callable[..., Any]) -> inspect.Signature:
    """`inspect.signature(callback)`, remembered per function for functions and bound methods."""
    if isinstance(callback, types.MethodType):
        func = callback.__func__
        found = _methods.get(func)
        if found is None:
            found = _methods[func] = inspect.signature(callback)
        return found
    if isinstance(callback, types.FunctionType):
        found = _functions.get(callback)
        if found is None:
            found = _functions[callback] = inspect.signature(callback)
        return found
    return inspect.signature(callback)


def install() -> None:
    """Make pycrdt's `observe` and `observe_deep` use `remembered_signature`."""
    from pycrdt import _base

    setattr(_base, "signature", remembered_signature)  # noqa: B010  (a module global)
