"""Properties of the gate (crdt/gate.py), in process, with Hypothesis.

1. The decoding boundary: random and adversarial update bytes — deep nesting of every content
   kind, huge lengths, truncated and mutated structs — never crash or hang the process, and
   never change a document unless pycrdt accepts them whole: when the gate lets an update
   through, pycrdt integrates all of it (nothing left pending) or refuses it with ValueError
   and changes nothing. (If the gate let a crashing update through, this test process would
   die: a crash, not a pass.)
2. The gate's index agrees with pycrdt: after any sequence of real edits its state vector is
   the document's, and valid updates from other peers are let through unchanged.
3. The commenter rule: commenter actions built with pycrdt in the shape the browser makes
   them (thread data in one transaction, y-tiptap's comment mark in another; replies, edits
   and resolving of their own threads) are applied; any update that changes the text a reader
   sees (inserts, deletes, other formatting, attributes, the title) is refused.
"""

from __future__ import annotations

import os
import time
import uuid

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from crdt.comments import mark_key
from crdt.gate import Decision, Gate
from crdt.markdown import document_text
from crdt.suggestion_check import SuggestionCheck
from crdt.update_format import MAX_TYPE_DEPTH, MAX_VALUE_DEPTH, UpdateError
from tests.support import forge
from tests.support.yclient import decode_state_vector

SETTINGS = settings(max_examples=int(os.environ.get("QUIRE_PROPERTY_EXAMPLES", "150")), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def seeded() -> Doc:
    doc = Doc(client_id=1)
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for words in ("The first paragraph.", "Second one, longer than the first."):
            fragment.children.append(XmlElement("paragraph", {}, [XmlText(words)]))
        doc.get("t", type=Text).insert(0, "plain text")
    return doc


class Replica:
    """A document and its gate, fed with what the document integrates (as a room does)."""

    def __init__(self, base: Doc) -> None:
        self.doc = Doc(client_id=2)
        self.gate = Gate()
        self.suggestions = SuggestionCheck()  # as the room: a commenter's text is suggestions
        self.doc.apply_update(base.get_update())
        self.gate.load(self.doc.get_update())
        self.doc.observe(self._learn)

    def _learn(self, event) -> None:
        self.gate.learn(event.update)
        self.suggestions.follow(event.update)

    def offer(self, update: bytes, role: str = "owner", who: str | None = "owner-id") -> str:
        """What happens to `update`: the gate's decision, and pycrdt's when it is let through
        (asserting the property)."""
        try:
            checked = self.gate.check(update, role=role, who=who)
        except UpdateError as exc:
            return "malformed" if exc.malformed else "refused as impossible"
        if checked.decision is not Decision.APPLY:
            return checked.decision.value
        if checked.suggest and who is not None and self.suggestions.check(
                self.doc, checked.update, who) is not None:
            return "refuse"
        before = decode_state_vector(self.doc.get_state())
        text_before = document_text(self.doc)
        try:
            self.doc.apply_update(checked.update)
        except ValueError:
            assert decode_state_vector(self.doc.get_state()) == before
            assert document_text(self.doc) == text_before
            return "pycrdt refused"
        # nothing the gate let through stays pending: the index agrees with the document
        assert self.gate.index.state_vector() == decode_state_vector(self.doc.get_state())
        return "applied"


# ---- 1. the decoding boundary -----------------------------------------------------------------

DEPTH = st.integers(1, 3) | st.integers(MAX_VALUE_DEPTH - 2, MAX_VALUE_DEPTH + 2) | st.sampled_from(
    [1_000, 20_000, 100_000])
DEEP = st.one_of(
    st.builds(forge.deep_value_update, DEPTH, kind=st.sampled_from(["array", "object"])),
    st.builds(forge.deep_format_update, DEPTH),
    st.builds(forge.deep_embed_update, DEPTH),
    st.builds(forge.deep_json_content_update, DEPTH),
    st.builds(forge.deep_subdoc_update, DEPTH),
    st.builds(forge.element_chain, st.integers(1, 3) | st.integers(
        MAX_TYPE_DEPTH - 2, MAX_TYPE_DEPTH + 2) | st.just(50_000)),
)


@st.composite
def valid_update(draw) -> bytes:
    """A real update from a peer that starts from the seeded document."""
    peer = Doc(client_id=draw(st.integers(10, 2**32)))
    peer.apply_update(seeded().get_update())
    before = peer.get_state()
    fragment = peer.get("default", type=XmlFragment)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["type", "delete", "format", "block", "map", "array"]))
        text = fragment.children[0].children[0]
        if op == "type":  # (ASCII: pycrdt indexes XmlText by UTF-8 bytes)
            text.insert(draw(st.integers(0, len(text))), draw(st.text(
                st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=5)))
        elif op == "delete" and len(text) > 2:
            del text[0:draw(st.integers(1, 2))]
        elif op == "format" and len(text) > 2:
            text.format(0, 2, {"bold": {}})
        elif op == "block":
            fragment.children.append(XmlElement("blockquote", {}, [
                XmlElement("paragraph", {}, [XmlText("q")])]))
        elif op == "map":
            peer.get("m", type=Map)[draw(st.text(max_size=4))] = draw(st.recursive(
                st.none() | st.booleans() | st.integers(-99, 99) | st.text(max_size=4),
                lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                    st.text(max_size=3), inner, max_size=3), max_leaves=10))
        else:
            peer.get("a", type=Array).append(draw(st.integers(0, 9)))
    return peer.get_update(before)


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(valid_update() | DEEP))
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(["flip", "truncate", "insert", "drop", "huge"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if how == "flip":
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif how == "truncate":
            del data[at:]
        elif how == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=6))
        elif how == "drop":
            del data[at]
        else:
            data[at:at] = b"\xff\xff\xff\xff\xff\xff\xff\x7f"
    return bytes(data)


@SETTINGS
@given(update=st.one_of(DEEP, mutated(), st.binary(max_size=64), valid_update()))
def test_no_update_crashes_hangs_or_half_applies(update):
    replica = Replica(seeded())
    started = time.perf_counter()
    outcome = replica.offer(update)
    assert time.perf_counter() - started < 2, outcome
    assert outcome in {"applied", "pycrdt refused", "malformed", "refused as impossible",
                       "hold", "refuse", "ignore"}


@SETTINGS
@given(update=DEEP)
def test_nesting_past_the_limits_never_reaches_pycrdt(update):
    from crdt.update_format import parse_update

    try:
        parse_update(update)
        shallow = True
    except UpdateError:
        shallow = False
    outcome = Replica(seeded()).offer(update)
    if not shallow:
        assert outcome == "refused as impossible"


# ---- 2. the index agrees with pycrdt ----------------------------------------------------------

@SETTINGS
@given(updates=st.lists(valid_update(), min_size=1, max_size=5))
def test_valid_updates_go_through_and_the_index_follows(updates):
    from crdt.update_format import parse_update

    peers = [{s.client for s in parse_update(u).structs} for u in updates]
    assume(all(not (a & b) for i, a in enumerate(peers) for b in peers[i + 1:]))  # distinct
    replica = Replica(seeded())
    for update in updates:
        outcome = replica.offer(update)
        # peers edit concurrently from the same base: each is applied, or held when it
        # deletes what another peer's earlier update (not sent here) inserted
        assert outcome in {"applied", "hold"}
    assert replica.gate.index.state_vector() == decode_state_vector(replica.doc.get_state())


# ---- 3. the commenter rule -------------------------------------------------------------------

ME = {"id": "commenter-id", "name": "Cam", "username": "cam", "color": "#225588"}


def browser_thread(doc: Doc, start: int, end: int) -> str:
    thread_id = str(uuid.uuid4())
    with doc.transaction():
        doc.get("comments", type=Map)[thread_id] = Map({
            "id": thread_id, "createdAt": 1.0, "author": ME, "quote": "q", "resolved": False,
            "resolvedAt": None, "resolvedBy": None,
            "messages": Array([Map({"id": "m", "author": ME, "body": "b", "createdAt": 1.0,
                                    "editedAt": None, "deleted": False})])})
    paragraph_text(doc).format(start, end, {mark_key(thread_id): {"threadId": thread_id}})
    return thread_id


def paragraph_text(doc: Doc) -> XmlText:
    return doc.get("default", type=XmlFragment).children[1].children[0]


COMMENTER_ACTIONS = st.lists(st.sampled_from(
    ["thread", "thread", "reply", "edit", "resolve", "reopen", "unmark", "delete-own"]),
    min_size=1, max_size=6)
TEXT_CHANGES = st.sampled_from(["insert", "delete", "bold", "attribute", "title", "block",
                                "unblock", "insert-in-comment"])


@SETTINGS
@given(actions=COMMENTER_ACTIONS, spans=st.lists(st.tuples(st.integers(0, 30),
                                                           st.integers(1, 8)), min_size=6,
                                                 max_size=6))
def test_what_a_commenter_does_in_the_browser_is_applied(actions, spans):
    replica = Replica(seeded())
    browser = Doc()
    browser.apply_update(replica.doc.get_update())
    mine: list[str] = []
    for action, (start, width) in zip(actions, spans, strict=False):
        before = browser.get_state()
        comments = browser.get("comments", type=Map)
        if action == "thread" or not mine:
            length = len(paragraph_text(browser))
            start = min(start, length - 1)
            mine.append(browser_thread(browser, start, min(length, start + width)))
        elif action == "reply":
            comments[mine[-1]]["messages"].append(Map({
                "id": str(uuid.uuid4()), "author": ME, "body": "re", "createdAt": 2.0,
                "editedAt": None, "deleted": False}))
        elif action == "edit":
            with browser.transaction():
                message = comments[mine[-1]]["messages"][0]
                message["body"] = "edited"
                message["editedAt"] = 3.0
        elif action in ("resolve", "reopen"):
            with browser.transaction():
                thread = comments[mine[-1]]
                thread["resolved"] = action == "resolve"
                thread["resolvedAt"] = 4.0 if action == "resolve" else None
                thread["resolvedBy"] = ME if action == "resolve" else None
        elif action == "unmark":
            text = paragraph_text(browser)
            text.format(0, len(text), {mark_key(mine[-1]): None})
        elif action == "delete-own":
            with browser.transaction():
                del comments[mine.pop()]
        update = browser.get_update(before)
        if update == b"\x00\x00":
            continue
        assert replica.offer(update, role="commenter", who=ME["id"]) in {"applied", "ignore"}, (
            action)
    assert document_text(replica.doc) == document_text(browser)


@SETTINGS
@given(change=TEXT_CHANGES, position=st.integers(0, 20), comment_first=st.booleans())
def test_what_changes_the_text_is_refused_from_a_commenter(change, position, comment_first):
    replica = Replica(seeded())
    browser = Doc()
    browser.apply_update(replica.doc.get_update())
    if comment_first:
        before = browser.get_state()
        browser_thread(browser, 2, 8)
        assert replica.offer(browser.get_update(before), role="commenter",
                             who=ME["id"]) == "applied"
    text_before = document_text(replica.doc)
    before = browser.get_state()
    text = paragraph_text(browser)
    fragment = browser.get("default", type=XmlFragment)
    position = min(position, len(text) - 1)
    if change == "insert":
        text.insert(position, "x")
    elif change == "insert-in-comment":
        text.insert(4, "x", {mark_key("any"): {"threadId": "any"}})
    elif change == "delete":
        del text[position:position + 1]
    elif change == "bold":
        text.format(position, position + 2, {"bold": {}})
    elif change == "attribute":
        fragment.children[1].attributes["textAlign"] = "center"
    elif change == "title":
        browser.get("meta", type=Map)["title"] = "Renamed"
    elif change == "block":
        fragment.children.append(XmlElement("paragraph", {}, [XmlText("new")]))
    else:
        del fragment.children[0]
    outcome = replica.offer(browser.get_update(before), role="commenter", who=ME["id"])
    assert outcome == "refuse", (change, outcome)
    assert document_text(replica.doc) == text_before
