"""What a role may change in a document, checked on the update itself before it is applied.

- editor / owner: anything.
- commenter: only comments — the "comments" map, and formatting of existing text with
  comment marks (`comment` or `comment--<hash>` attributes, how y-tiptap anchors a thread).
  Inserting or deleting text, other marks, node attributes, the title or any other root are
  refused.
- viewer: nothing.
The check applies the update to a scratch copy of the document and inspects the events, so the
live document is never touched by a refused update.
"""

from __future__ import annotations

from typing import Any

from pycrdt import Array, Doc, Map, Text, XmlFragment

WRITE_ROLES = {"editor", "owner"}
COMMENT_ROOTS = {"comments"}


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _comment_only_delta(delta: list[dict[str, Any]]) -> bool:
    for op in delta:
        if set(op) - {"retain", "attributes"}:
            return False  # insert or delete
        attributes = op.get("attributes")
        if attributes is not None and not all(k == "comment" or k.startswith("comment--")
                                              for k in attributes):
            return False
    return True


def check_commenter_update(doc: Doc, update: bytes) -> None:
    """Raise Refused unless `update` changes nothing in `doc` but comments."""
    scratch = Doc()
    scratch.apply_update(doc.get_update())
    roots_before = set(scratch.keys())
    problems: list[str] = []

    def on_fragment(events, *_: Any) -> None:
        for event in events:
            if getattr(event, "keys", None):
                problems.append("changes node attributes")
            delta = getattr(event, "delta", None) or []
            if not _comment_only_delta(delta):
                problems.append("changes the text")

    def on_meta(*_: Any) -> None:
        problems.append("changes the title")

    fragment = scratch.get("default", type=XmlFragment)
    meta = scratch.get("meta", type=Map)
    subscriptions = [fragment.observe_deep(on_fragment), meta.observe_deep(on_meta)]
    known = {"default", "meta", *COMMENT_ROOTS}
    others = roots_before - known
    before_other = {name: _root_state(scratch, name) for name in others}
    try:
        scratch.apply_update(update)
    except ValueError as exc:
        raise Refused("malformed update") from exc
    del subscriptions
    new_roots = set(scratch.keys()) - roots_before - known
    if new_roots:
        problems.append(f"adds {sorted(new_roots)}")
    for name in others:
        if _root_state(scratch, name) != before_other[name]:
            problems.append(f"changes {name}")
    if problems:
        raise Refused("a commenter may only add comments: the update " + problems[0])


def _root_state(doc: Doc, name: str) -> Any:
    # roots other than the editor's are rare (scripts); compare their whole value, trying the
    # shared types a root can have
    for kind in (Map, Text, Array, XmlFragment):
        try:
            return str(doc.get(name, type=kind))
        except Exception:
            continue
    return None
