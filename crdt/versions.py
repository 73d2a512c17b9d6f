"""Versions of a document, on the CRDT side: rebuild one from its stored parts, compare it with
the live document, and restore it into the live document as a new change.

Restoring never rewinds history (every client would have to drop what it has): it computes the
edit that turns the live `XmlFragment("default")` and the title in `Map("meta")` into the
version's, and applies it like any other change, so it is persisted, broadcast and undoable by
restoring again. The edit is kept small — unchanged blocks are left alone (so carets in them
stay put) and a changed text block only has its changed middle rewritten — and it is checked:
if the result ever differs from the version, the fragment is rebuilt from scratch instead.
"""

from __future__ import annotations

import difflib
import json
import logging
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText, merge_updates

from crdt.meta import get_title, set_title
from crdt.room import merge_to_state
from crdt.text_diff import text_diff as text_diff  # the version view's word diff

log = logging.getLogger("quire.versions")

FRAGMENT = "default"

Node = XmlElement | XmlText
Parent = XmlFragment | XmlElement


# ---- stored parts ---------------------------------------------------------------------------


def doc_from_parts(parts: list[bytes]) -> Doc:
    """A version as a Doc: its checkpoint state followed by the deltas of its chain."""
    doc = Doc()
    # one merged update applies about twice as fast as the parts one by one
    doc.apply_update(merge_deltas(parts))
    return doc


def merge_deltas(parts: list[bytes]) -> bytes:
    """One delta equivalent to applying `parts` in turn (folds versions away)."""
    return parts[0] if len(parts) == 1 else merge_updates(*parts)


def squash(parts: list[bytes]) -> bytes:
    """A full state from a full state and the deltas that follow it."""
    return merge_to_state(parts)


# ---- canonical content ----------------------------------------------------------------------


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _runs(text: XmlText) -> list[tuple[Any, dict]]:
    return [(chunk, dict(attrs or {})) for chunk, attrs in text.diff()]


def node_tree(node: Node) -> Any:
    """A canonical, comparable picture of a node and everything under it."""
    if isinstance(node, XmlText):
        runs = []
        for chunk, attrs in _runs(node):
            if runs and isinstance(chunk, str) and isinstance(runs[-1][0], str) \
                    and runs[-1][1] == attrs:
                runs[-1] = (runs[-1][0] + chunk, attrs)  # adjacent runs, same marks
            else:
                runs.append((chunk, attrs))
        return ["text", dict(node.attributes), runs]
    return ["element", node.tag, dict(node.attributes), [node_tree(c) for c in node.children]]


def content_tree(doc: Doc) -> Any:
    """The part of a document a version restores: the fragment and the title."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    with doc.transaction():
        return {"title": get_title(doc), "fragment": [node_tree(c) for c in fragment.children]}


# ---- restore --------------------------------------------------------------------------------


def restore(doc: Doc, version: Doc) -> bool:
    """Make `doc`'s fragment and title equal to `version`'s, as one new change (one transaction).

    Returns False (and changes nothing) if they are equal already."""
    wanted = content_tree(version)
    if _matches(doc, wanted):
        return False
    target = version.get(FRAGMENT, type=XmlFragment)
    live = doc.get(FRAGMENT, type=XmlFragment)
    with version.transaction(), doc.transaction():
        _sync_children(live, target)
        if wanted["title"] is not None and get_title(doc) != wanted["title"]:
            set_title(doc, wanted["title"])
    if not _matches(doc, wanted):
        # Not expected to happen; correctness first: rebuild the whole fragment.
        log.error("restore: the minimal edit did not reproduce the version; rebuilding")
        with version.transaction(), doc.transaction():
            del live.children[0 : len(live.children)]
            for child in target.children:
                _copy_into(live, len(live.children), child)
    return True


def _matches(doc: Doc, wanted: dict) -> bool:
    # A version without a title (older documents) leaves the live title alone.
    current = content_tree(doc)
    return current["fragment"] == wanted["fragment"] and (
        wanted["title"] is None or current["title"] == wanted["title"])


def _fingerprint(node: Node) -> str:
    return _key(node_tree(node))


def _sync_children(live: Parent, target: Parent) -> None:
    """Edit `live`'s children until they equal `target`'s, touching as little as possible."""
    live_children = list(live.children)
    target_children = list(target.children)
    a = [_fingerprint(c) for c in live_children]
    b = [_fingerprint(c) for c in target_children]
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    # Work from the end so the indices of earlier opcodes stay valid.
    for op, i1, i2, j1, j2 in reversed(matcher.get_opcodes()):
        if op == "equal":
            continue
        pairs = min(i2 - i1, j2 - j1)
        # Insert/delete the surplus first (after the paired part), then edit the pairs in place.
        if j2 - j1 > pairs:
            for offset, child in enumerate(target_children[j1 + pairs : j2]):
                _copy_into(live, i1 + pairs + offset, child)
        if i2 - i1 > pairs:
            del live.children[i1 + pairs : i2]
        for k in range(pairs - 1, -1, -1):
            _sync_node(live, i1 + k, live_children[i1 + k], target_children[j1 + k])


def _sync_node(parent: Parent, index: int, live: Node, target: Node) -> None:
    if isinstance(live, XmlText) and isinstance(target, XmlText):
        _sync_attributes(live, target)
        _sync_text(live, target)
    elif isinstance(live, XmlElement) and isinstance(target, XmlElement) \
            and live.tag == target.tag:
        _sync_attributes(live, target)
        _sync_children(live, target)
    else:
        del parent.children[index]
        _copy_into(parent, index, target)


def _sync_attributes(live: XmlElement | XmlText, target: XmlElement | XmlText) -> None:
    wanted = dict(target.attributes)
    for name, _value in list(live.attributes):
        if name not in wanted:
            del live.attributes[name]
    for name, value in wanted.items():
        if _key(live.attributes.get(name)) != _key(value):
            live.attributes[name] = value


def _units(text: XmlText) -> list[tuple[Any, dict, str]]:
    """The text as units of length 1 (characters, embeds) with their marks."""
    units = []
    for chunk, attrs in _runs(text):
        marks = _key(attrs)
        if isinstance(chunk, str):
            units.extend((ch, attrs, marks) for ch in chunk)
        else:
            units.append((chunk, attrs, marks))
    return units


def _sync_text(live: XmlText, target: XmlText) -> None:
    """Rewrite only the middle of `live` that differs from `target` (common prefix/suffix stay)."""
    old = _units(live)
    new = _units(target)
    same = [(u[0] if isinstance(u[0], str) else _key(u[0]), u[2]) for u in old]
    want = [(u[0] if isinstance(u[0], str) else _key(u[0]), u[2]) for u in new]
    start = 0
    while start < len(same) and start < len(want) and same[start] == want[start]:
        start += 1
    end_old, end_new = len(same), len(want)
    while end_old > start and end_new > start and same[end_old - 1] == want[end_new - 1]:
        end_old -= 1
        end_new -= 1
    # XmlText offsets count UTF-8 bytes (yrs' default), and an embed counts as one.
    offset = sum(_width(u[0]) for u in old[:start])
    removed = sum(_width(u[0]) for u in old[start:end_old])
    if removed:
        del live[offset : offset + removed]
    _insert_units(live, offset, new[start:end_new])


def _width(value: Any) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else 1


def _insert_units(text: XmlText, index: int, units: list[tuple[Any, dict, str]]) -> None:
    position = index
    run: list[str] = []
    run_attrs: dict | None = None
    run_key = ""

    def flush() -> None:
        nonlocal position, run
        if run:
            chunk = "".join(run)
            # Always pass a dict: with None, yrs would inherit the marks of the text before.
            text.insert(position, chunk, dict(run_attrs or {}))
            position += len(chunk.encode("utf-8"))
            run = []

    for value, attrs, marks in units:
        if isinstance(value, str):
            if run and marks != run_key:
                flush()
            run.append(value)
            run_attrs, run_key = attrs, marks
        else:
            flush()
            text.insert_embed(position, _plain_embed(value), dict(attrs))
            position += 1
    flush()


def _plain_embed(value: Any) -> Any:
    # Shared types embedded in text are not part of Tiptap's schema; keep their plain value.
    to_py = getattr(value, "to_py", None)
    return to_py() if callable(to_py) else value


def _copy_into(parent: Parent, index: int, source: Node) -> None:
    """Insert a copy of `source` (from another doc) at `index` of `parent` (explicit stack)."""
    stack: list[tuple[Parent, int, Node]] = [(parent, index, source)]
    while stack:
        into, at, node = stack.pop()
        if isinstance(node, XmlText):
            text = into.children.insert(at, XmlText())
            for name, value in node.attributes:
                text.attributes[name] = value
            _insert_units(text, 0, _units(node))
        else:
            element = into.children.insert(at, XmlElement(node.tag or "", dict(node.attributes)))
            children = list(node.children)
            # Pushed in reverse, so each child (with its subtree) is inserted before the next.
            for position in range(len(children) - 1, -1, -1):
                stack.append((element, position, children[position]))
