"""A commenter's change to the text is checked as suggestions before the room applies it.

The check needs to see what the update would do to the text, without doing it: the update is
applied to a copy of the document (the "shadow"), a deep observer reads the changes there, and
`crdt.suggestions.check_commenter` judges them against the document itself. Accepted, the room
applies the update as usual; refused, the copy (which took it) is thrown away.

The copy is made when a commenter first changes the text, follows every update the room applies
from then on (applying an update twice changes nothing), and is dropped when the last commenter
leaves. So rooms without commenters, and editors' keystrokes, pay nothing for it.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Doc, XmlFragment

from crdt.plain_text import FRAGMENT
from crdt.suggestions import NotASuggestion, check_commenter


class SuggestionCheck:
    __slots__ = ("_shadow",)

    def __init__(self) -> None:
        self._shadow: Doc[Any] | None = None

    @property
    def active(self) -> bool:
        return self._shadow is not None

    def check(self, doc: Doc[Any], update: bytes, who: str) -> str | None:
        """Why `update` (a commenter's, `who`) is not theirs to make, or None if it only adds
        or withdraws their own suggestions."""
        if self._shadow is None:
            shadow: Doc[Any] = Doc()
            shadow.apply_update(doc.get_update())
            self._shadow = shadow
        shadow = self._shadow
        fragment = shadow.get(FRAGMENT, type=XmlFragment)
        reason: list[str] = []

        def judge(events: list[Any]) -> None:
            # the events are only valid inside the transaction: judge them here
            try:
                check_commenter(events, doc, who)
            except NotASuggestion as refused:
                reason.append(refused.reason)
            except Exception as exc:  # a shape the rules did not foresee: refuse, keep serving
                reason.append(f"the change could not be checked ({type(exc).__name__})")

        subscription = fragment.observe_deep(judge)
        try:
            shadow.apply_update(update)
        finally:
            fragment.unobserve(subscription)
        if reason:
            self._shadow = None  # it took the refused update: no longer the document's copy
            return reason[0]
        return None

    def follow(self, update: bytes) -> None:
        """The room applied `update`: so does the copy."""
        if self._shadow is not None:
            self._shadow.apply_update(update)

    def drop(self) -> None:
        self._shadow = None
