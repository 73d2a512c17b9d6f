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

import json
import logging
import time
from typing import Any

from pycrdt import Decoder, Doc, XmlElement, XmlFragment, XmlText, merge_updates

from crdt.budget import Deadline
from crdt.compaction import merge_to_state
from crdt.gate import stored_state
from crdt.meta import get_title, set_title
from crdt.text_diff import myers
from crdt.text_diff import text_diff as text_diff  # the version view's word diff
from crdt.update_format import sanitize
from crdt.xml_nodes import Node, Parent, attributes, children

log = logging.getLogger("quire.versions")

FRAGMENT = "default"

# ---- stored parts ---------------------------------------------------------------------------


def doc_from_parts(parts: list[bytes]) -> Doc[Any]:
    """A version as a Doc: its checkpoint state followed by the deltas of its chain (read
    through `stored_state`: what pycrdt cannot read safely is left out)."""
    doc: Doc[Any] = Doc()
    state, left_out = stored_state(parts)
    for why in left_out:
        log.error("a stored version part was left out: %s", why)
    doc.apply_update(state)
    return doc


def state_clocks(state_vector: bytes) -> dict[int, int]:
    """A Yjs state vector (as pycrdt encodes it) as {client: clock}."""
    decoder = Decoder(state_vector)
    return {decoder.read_var_uint(): decoder.read_var_uint()
            for _ in range(decoder.read_var_uint())}


def covers(have: bytes, need: bytes) -> bool:
    """Whether a state with state vector `have` holds everything one with `need` holds."""
    held = state_clocks(have)
    return all(held.get(client, 0) >= clock for client, clock in state_clocks(need).items())


def merge_deltas(parts: list[bytes]) -> bytes:
    """One delta equivalent to applying `parts` in turn (folds versions away)."""
    if len(parts) == 1:
        return parts[0]
    clean = [safe for safe, _ in map(sanitize, parts) if safe is not None]
    return merge_updates(*clean) if clean else b"\x00\x00"


def squash(parts: list[bytes]) -> bytes:
    """A full state from a full state and the deltas that follow it."""
    return merge_to_state(parts)


# ---- canonical content ----------------------------------------------------------------------


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=repr)


def _runs(text: XmlText) -> list[tuple[Any, dict[str, Any]]]:
    return [(chunk, dict(attrs or {})) for chunk, attrs in text.diff()]


def node_tree(node: Node, deadline: Deadline | None = None) -> Any:
    """A canonical, comparable picture of a node and everything under it."""
    if deadline is not None:
        deadline.tick()
    if isinstance(node, XmlText):
        runs: list[tuple[Any, dict[str, Any]]] = []
        for chunk, attrs in _runs(node):
            if runs and isinstance(chunk, str) and isinstance(runs[-1][0], str) \
                    and runs[-1][1] == attrs:
                runs[-1] = (runs[-1][0] + chunk, attrs)  # adjacent runs, same marks
            else:
                runs.append((chunk, attrs))
        return ["text", attributes(node), runs]
    return ["element", node.tag, attributes(node),
            [node_tree(c, deadline) for c in children(node)]]


def content_tree(doc: Doc[Any], deadline: Deadline | None = None) -> Any:
    """The part of a document a version restores: the fragment and the title."""
    fragment = doc.get(FRAGMENT, type=XmlFragment)
    with doc.transaction():
        return {"title": get_title(doc),
                "fragment": [node_tree(c, deadline) for c in children(fragment)]}


# ---- restore --------------------------------------------------------------------------------


def restore(doc: Doc[Any], version: Doc[Any], deadline: Deadline | None = None) -> bool:
    """Make `doc`'s fragment and title equal to `version`'s, as one new change (one transaction).

    Returns False (and changes nothing) if they are equal already. Raises `BudgetExceeded`
    once `deadline` has passed, leaving part of the edit made: give a deadline only for a
    private copy (see `restore_update`)."""
    deadline = deadline or Deadline(None)
    wanted = content_tree(version, deadline)
    current = content_tree(doc, deadline)
    if _matches(current, wanted):
        return False
    target = version.get(FRAGMENT, type=XmlFragment)
    live = doc.get(FRAGMENT, type=XmlFragment)
    with version.transaction(), doc.transaction():
        # the top level's fingerprints come from the trees already made
        _sync_children(live, target, deadline, [_key(t) for t in current["fragment"]],
                       [_key(t) for t in wanted["fragment"]])
        if wanted["title"] is not None and get_title(doc) != wanted["title"]:
            set_title(doc, wanted["title"])
    if not _matches(content_tree(doc, deadline), wanted):
        # Not expected to happen; correctness first: rebuild the whole fragment.
        log.error("restore: the minimal edit did not reproduce the version; rebuilding")
        with version.transaction(), doc.transaction():
            _rebuild(live, target)
    return True


def restore_update(state: bytes, version: Doc[Any], deadline: Deadline | None = None) -> bytes | None:
    """The update that restores `version` into the document whose state is `state` (computed
    on a private copy, so it can run off the event loop), or None if they are equal already.

    Raises `BudgetExceeded` once `deadline` has passed."""
    copy: Doc[Any] = Doc()
    copy.apply_update(state)
    start = copy.get_state()
    if not restore(copy, version, deadline):
        return None
    return copy.get_update(start)


def _rebuild(live: Parent, target: Parent) -> None:
    """Replace all of `live`'s children by copies of `target`'s (linear)."""
    del live.children[0 : len(live.children)]
    for child in reversed(children(target)):
        _copy_into(live, 0, child)


def _matches(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    # A version without a title (older documents) leaves the live title alone.
    return current["fragment"] == wanted["fragment"] and (
        wanted["title"] is None or current["title"] == wanted["title"])


def _fingerprint(node: Node, deadline: Deadline | None = None) -> str:
    return _key(node_tree(node, deadline))


#: Past this many separate changes among one element's children, or this many children changed,
#: they are all rewritten instead of edited in place: each edit finds its index by walking the
#: children from the start, and each edited pair costs a comparison of its own (carets in
#: unchanged blocks are only kept for restores smaller than this).
MAX_HUNKS = 256
MAX_CHANGED = 2048
#: The share of the remaining time budget one comparison of children may take.
MYERS_SHARE = 0.25


def _opcodes(a: list[str], b: list[str], deadline: Deadline) -> list[tuple[int, int, int, int]]:
    """Where `a` and `b` differ, as (i1, i2, j1, j2) with a[i1:i2] to become b[j1:j2].

    diff-match-patch's Myers diff with the deadline (SequenceMatcher, used before, took 112 s on
    2,000 paragraphs alternating between two texts); when time is short it reports a bigger
    changed range, which restore handles just the same."""
    changes: list[tuple[int, int, int, int]] = []
    i = j = 0
    start: tuple[int, int] | None = None
    # a share of what is left: a coarse plan must still have time to be carried out
    until = time.monotonic() + deadline.remaining() * MYERS_SHARE
    for op, count in myers(a, b, until) or [("-", len(a)), ("+", len(b))]:
        if op == "=":
            if start is not None:
                changes.append((start[0], i, start[1], j))
                start = None
            i += count
            j += count
            continue
        if start is None:
            start = (i, j)
        if op == "-":
            i += count
        else:
            j += count
    if start is not None:
        changes.append((start[0], i, start[1], j))
    return changes


def _sync_children(live: Parent, target: Parent, deadline: Deadline,
                   a: list[str] | None = None, b: list[str] | None = None) -> None:
    """Edit `live`'s children until they equal `target`'s, touching as little as possible.
    (`a`, `b`: the children's fingerprints, when the caller has them.)"""
    live_children = children(live)
    target_children = children(target)
    if a is None:
        a = [_fingerprint(child, deadline) for child in live_children]
    if b is None:
        b = [_fingerprint(child, deadline) for child in target_children]
    if a == b:
        return
    changes = _opcodes(a, b, deadline)
    changed = sum(max(i2 - i1, j2 - j1) for i1, i2, j1, j2 in changes)
    if len(changes) > MAX_HUNKS or changed > MAX_CHANGED:
        deadline.check()
        _rebuild(live, target)
        return
    # Work from the end so the indices of earlier changes stay valid.
    for i1, i2, j1, j2 in reversed(changes):
        deadline.check()
        pairs = min(i2 - i1, j2 - j1)
        # Insert/delete the surplus first (after the paired part), then edit the pairs in place.
        # The surplus goes in last to first at one index: each insert walks to it only once.
        for child in reversed(target_children[j1 + pairs : j2]):
            _copy_into(live, i1 + pairs, child)
        if i2 - i1 > pairs:
            del live.children[i1 + pairs : i2]
        for k in range(pairs - 1, -1, -1):
            _sync_node(live, i1 + k, live_children[i1 + k], target_children[j1 + k], deadline)


def _sync_node(parent: Parent, index: int, live: Node, target: Node,
               deadline: Deadline) -> None:
    if isinstance(live, XmlText) and isinstance(target, XmlText):
        _sync_attributes(live, target)
        _sync_text(live, target)
    elif isinstance(live, XmlElement) and isinstance(target, XmlElement) \
            and live.tag == target.tag:
        _sync_attributes(live, target)
        _sync_children(live, target, deadline)
    else:
        del parent.children[index]
        _copy_into(parent, index, target)


def _sync_attributes(live: XmlElement | XmlText, target: XmlElement | XmlText) -> None:
    wanted = attributes(target)
    for name in attributes(live):
        if name not in wanted:
            del live.attributes[name]
    for name, value in wanted.items():
        if _key(live.attributes.get(name)) != _key(value):
            live.attributes[name] = value


def _units(text: XmlText) -> list[tuple[Any, dict[str, Any], str]]:
    """The text as units of length 1 (characters, embeds) with their marks."""
    units: list[tuple[Any, dict[str, Any], str]] = []
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


def _insert_units(text: XmlText, index: int, units: list[tuple[Any, dict[str, Any], str]]) -> None:
    position = index
    run: list[str] = []
    run_attrs: dict[str, Any] | None = None
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
            for name, value in attributes(node).items():
                text.attributes[name] = value
            _insert_units(text, 0, _units(node))
        else:
            element = into.children.insert(at, XmlElement(node.tag or "", attributes(node)))
            # The last child is popped first and each goes in at index 0: yrs finds an index by
            # walking from the first child, so inserting in order was quadratic in the children.
            for child in children(node):
                stack.append((element, 0, child))
