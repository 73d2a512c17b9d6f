"""Suggestions (issue 15): the rules a commenter's changes to the text must follow, pinned on
updates in the exact shape the browser makes them (y-tiptap keeps the `suggestInsert` and
`suggestDelete` marks as formatting attributes whose value is the mark's attrs), through the
gate and the suggestion check as a room runs them; listing, accepting and rejecting."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.gate import Decision
from crdt.suggestions import (
    DELETE,
    INSERT,
    correct_authors,
    list_suggestions,
    rejected,
    resolve,
)
from tests.crdt.test_gate_property import Replica, seeded

ME = "commenter-id"
OTHER = "someone-else"
SETTINGS = settings(max_examples=int(os.environ.get("QUIRE_PROPERTY_EXAMPLES", "150")),
                    deadline=None, suppress_health_check=[HealthCheck.too_slow])


def mark(sid: str, author: str = ME) -> dict:
    return {"id": sid, "author": author, "at": 1_700_000_000_000}


def text_of(doc: Doc, block: int = 1) -> XmlText:
    return doc.get("default", type=XmlFragment).children[block].children[0]


class Session:
    """A commenter's browser beside the server's replica: each change is sent as the update
    the browser would send, and the replica's answer returned."""

    def __init__(self, role: str = "commenter", who: str = ME) -> None:
        self.replica = Replica(seeded())
        self.browser = Doc()
        self.browser.apply_update(self.replica.doc.get_update())
        self.role, self.who = role, who

    def send(self, change) -> str:
        before = self.browser.get_state()
        change(text_of(self.browser), self.browser)
        update = self.browser.get_update(before)
        outcome = self.replica.offer(update, role=self.role, who=self.who)
        if outcome != "applied":  # the browser's copy goes back to the server's
            self.browser = Doc()
            self.browser.apply_update(self.replica.doc.get_update())
        return outcome


def test_typing_a_suggestion_is_applied_and_the_text_as_it_stands_is_unchanged():
    session = Session()
    stands = rejected(session.replica.doc)
    assert session.send(lambda t, d: t.insert(4, "new ", {INSERT: mark("s1")})) == "applied"
    assert session.send(lambda t, d: t.insert(8, "er", {INSERT: mark("s1")})) == "applied"
    assert rejected(session.replica.doc) == stands
    (found,) = list_suggestions(session.replica.doc)
    assert found.public() == {
        "id": "s1", "kind": "insert", "author": ME, "at": 1_700_000_000_000,
        "inserted": "new er", "deleted": "",
        "passage": "Seconew ernd one, longer than the first."}


def test_plain_typing_deleting_and_formatting_by_a_commenter_are_refused():
    session = Session()
    before = session.replica.doc.get_update()
    for change in (
        lambda t, d: t.insert(0, "x"),
        lambda t, d: t.insert(0, "x", {INSERT: mark("s2", OTHER)}),  # in someone else's name
        lambda t, d: t.insert(0, "x", {INSERT: {"id": "s3"}}),  # no author
        lambda t, d: t.__delitem__(slice(0, 3)),
        lambda t, d: t.format(0, 6, {"bold": {}}),
        lambda t, d: t.format(0, 6, {INSERT: mark("s5")}),  # existing text made "suggested"
        lambda t, d: t.format(0, 6, {DELETE: mark("s6", OTHER)}),
        lambda t, d: d.get("default", type=XmlFragment).children.append(
            XmlElement("paragraph", {}, [XmlText("new block")])),
        lambda t, d: d.get("default", type=XmlFragment).children[0].attributes.__setitem__(
            "textAlign", "center"),
    ):
        assert session.send(change) == "refuse"
    assert session.replica.doc.get_update() == before


def test_suggesting_a_deletion_and_a_replacement_and_withdrawing_them():
    session = Session()
    stands = rejected(session.replica.doc)
    # select "one" and type "two": the old text marked, the new one inserted, one suggestion
    assert session.send(lambda t, d: t.format(7, 10, {DELETE: mark("r1")})) == "applied"
    assert session.send(lambda t, d: t.insert(10, "two", {INSERT: mark("r1")})) == "applied"
    (found,) = list_suggestions(session.replica.doc)
    assert (found.kind, found.deleted, found.inserted) == ("replace", ["one"], ["two"])
    assert rejected(session.replica.doc) == stands
    # withdrawing: the inserted text deleted, the deletion unmarked
    assert session.send(lambda t, d: t.__delitem__(slice(10, 13))) == "applied"
    assert session.send(lambda t, d: t.format(7, 10, {DELETE: None})) == "applied"
    assert list_suggestions(session.replica.doc) == []
    assert all(not (a or {}).get(DELETE) and not (a or {}).get(INSERT)
               for _p, a in text_of(session.replica.doc).diff())
    assert str(text_of(session.replica.doc)) == "Second one, longer than the first."


def test_a_commenter_may_not_accept_or_withdraw_someone_elses_suggestion():
    session = Session()
    # an editor suggested "fast " and a deletion
    editor = Session(role="editor", who=OTHER)
    editor.replica = session.replica
    editor.browser = Doc()
    editor.browser.apply_update(session.replica.doc.get_update())
    assert editor.send(lambda t, d: t.insert(0, "fast ", {INSERT: mark("e1", OTHER)})) == "applied"
    assert editor.send(lambda t, d: t.format(12, 15, {DELETE: mark("e2", OTHER)})) == "applied"
    session.browser = Doc()
    session.browser.apply_update(session.replica.doc.get_update())
    for change in (
        lambda t, d: t.format(0, 5, {INSERT: None}),  # accept the insertion
        lambda t, d: t.__delitem__(slice(0, 5)),  # reject it
        lambda t, d: t.format(12, 15, {DELETE: None}),  # reject the deletion
        lambda t, d: t.__delitem__(slice(12, 15)),  # accept it
        lambda t, d: t.format(12, 15, {DELETE: mark("c1")}),  # take it over
    ):
        assert session.send(change) == "refuse"
    # formatting inside their own suggestion is theirs
    assert session.send(lambda t, d: t.insert(0, "very ", {INSERT: mark("c2")})) == "applied"
    assert session.send(lambda t, d: t.format(0, 4, {"bold": {}})) == "applied"


def test_an_editors_suggestion_under_another_name_is_flagged_for_correction():
    session = Session(role="editor", who="editor-id")
    before = session.browser.get_state()
    text_of(session.browser).insert(0, "x", {INSERT: mark("f1", OTHER)})
    checked = session.replica.gate.check(session.browser.get_update(before), role="editor",
                                         who="editor-id")
    assert checked.decision is Decision.APPLY and checked.misattributed == {"f1"}
    session.replica.doc.apply_update(checked.update)
    assert correct_authors(session.replica.doc, {"f1"}, "editor-id") == 1
    assert list_suggestions(session.replica.doc)[0].author == "editor-id"


def test_accepting_and_rejecting():
    doc = seeded()
    text = text_of(doc)
    text.insert(0, "Fast ", {INSERT: mark("a")})
    text.format(5 + 7, 5 + 10, {DELETE: mark("b")})  # "one"
    text.insert(5 + 10, "two", {INSERT: mark("b")})
    text_of(doc, 0).insert(0, "Dear ", {INSERT: mark("c", OTHER)})
    assert [s.id for s in list_suggestions(doc)] == ["c", "a", "b"]
    assert resolve(doc, accept=True, ids={"a"}) == 1
    assert resolve(doc, accept=False, ids={"b"}) == 2
    assert resolve(doc, accept=True, author=OTHER) == 1
    assert str(text_of(doc)) == "Fast Second one, longer than the first."
    assert str(text_of(doc, 0)) == "Dear The first paragraph."
    assert list_suggestions(doc) == []


OPS = st.lists(st.tuples(st.sampled_from(["type", "extend", "mark-delete", "withdraw-delete",
                                          "delete-own", "bold-own"]),
                         st.integers(0, 30), st.integers(1, 6)), min_size=1, max_size=12)


@SETTINGS
@given(ops=OPS)
def test_any_sequence_of_own_suggestions_is_applied_and_never_changes_the_text(ops):
    """Property: whatever a commenter suggests and withdraws (in the browser's shapes), every
    update is applied and the text as it stands is what it was."""
    session = Session()
    stands = rejected(session.replica.doc)
    count = 0
    for op, at, size in ops:
        text = text_of(session.browser)
        pieces = [(p, a or {}) for p, a in text.diff()]
        length = len(text)
        at = min(at, length)
        own = [(i, len(p.encode())) for i, (p, a) in _offsets(pieces) if INSERT in a]
        plain = [(i, len(p.encode())) for i, (p, a) in _offsets(pieces)
                 if INSERT not in a and DELETE not in a]
        marked = [(i, len(p.encode())) for i, (p, a) in _offsets(pieces) if DELETE in a]
        count += 1
        sid = f"p{count}"
        change = _change(op, at, size, sid, own, plain, marked)
        if change is None:
            continue
        # (formatting what is already formatted changes nothing: the server ignores it)
        assert session.send(change) in {"applied", "ignore"}, op
        assert rejected(session.replica.doc) == stands
    assert rejected(session.browser) == stands


def _change(op, at, size, sid, own, plain, marked):
    """The browser's change for one generated step, or None when it does not apply."""
    if op == "type":
        return lambda t, d: t.insert(at, "ab", {INSERT: mark(sid)})
    if op == "extend" and own:
        start, n = own[0]
        return lambda t, d: t.insert(start + n, "z", {INSERT: mark(sid)})
    if op == "mark-delete" and plain:
        start, n = plain[0]
        return lambda t, d: t.format(start, start + min(n, size), {DELETE: mark(sid)})
    if op == "withdraw-delete" and marked:
        start, n = marked[0]
        return lambda t, d: t.format(start, start + n, {DELETE: None})
    if op == "delete-own" and own:
        start, n = own[-1]
        return lambda t, d: t.__delitem__(slice(start, start + min(n, size)))
    if op == "bold-own" and own:
        start, n = own[0]
        return lambda t, d: t.format(start, start + n, {"bold": {}})
    return None


def _offsets(pieces):
    offset = 0
    for piece, attrs in pieces:
        yield offset, (piece, attrs)
        offset += len(piece.encode())
