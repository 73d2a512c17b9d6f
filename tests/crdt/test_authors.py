"""crdt/authors.py: the text in runs by author, read from Yrs's own order."""

from __future__ import annotations

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.authors import AuthorRun, Owners, author_runs, authors_map, record
from crdt.plain_text import document_text


def _people() -> tuple[Doc, Doc]:
    ann, bea = Doc(client_id=1), Doc(client_id=2)
    fragment = ann.get("default", type=XmlFragment)
    fragment.children.append(XmlElement("heading", {"level": 1}, [XmlText("Title")]))
    fragment.children.append(XmlElement("paragraph", {}, [XmlText("héllo world")]))
    bea.apply_update(ann.get_update())
    return ann, bea


def _sync(a: Doc, b: Doc) -> None:
    a.apply_update(b.get_update(a.get_state()))
    b.apply_update(a.get_update(b.get_state()))


def _paragraph(doc: Doc) -> XmlText:
    return doc.get("default", type=XmlFragment).children[1].children[0]


def test_interleaved_typing_and_formatting_come_back_in_order():
    ann, bea = _people()
    _paragraph(bea).insert(len("héllo ".encode()), "big 🙂 ", {"bold": True})
    _sync(ann, bea)
    _paragraph(ann).insert(len(str(_paragraph(ann).diff()[0][0]).encode()), "!")  # after "héllo "
    _sync(ann, bea)
    record(authors_map(ann), frozenset({1}), "ann", "Ann")
    record(authors_map(ann), frozenset({2}), "bea", "Bea")
    runs = author_runs(ann)
    assert "".join(run.text for run in runs) == document_text(ann)
    assert runs == [AuthorRun("Title\nhéllo !", "ann"), AuthorRun("big 🙂 ", "bea"),
                    AuthorRun("world", "ann")]


def test_unrecorded_and_deleted_text():
    ann, bea = _people()
    _paragraph(bea).insert(0, "gone ")
    _sync(ann, bea)
    del _paragraph(ann)[0:len("gone ")]
    _paragraph(bea).insert(len("gone héllo world".encode()), " tail")
    _sync(ann, bea)
    record(authors_map(ann), frozenset({2}), "bea", None)  # ann's client id never recorded
    assert author_runs(ann) == [AuthorRun("Title\nhéllo world", None), AuthorRun(" tail", "bea")]


def test_a_client_id_is_one_accounts():
    ann, bea = _people()
    owners = Owners(ann)
    assert owners.record(frozenset({1, 7}), "ann", "Ann") == 2
    assert owners.record(frozenset({1}), "bea", "Bea") == 0  # never taken over
    assert owners.claimed_by_other(frozenset({1}), "ann") is None
    assert owners.claimed_by_other(frozenset({8, 7}), "bea") == 7
    assert owners.claimed_by_other(frozenset({8}), "bea") is None
    # a record that arrives from elsewhere (stored state, another process) is known at once
    elsewhere = Owners(bea)
    bea.apply_update(ann.get_update())
    assert elsewhere.claimed_by_other(frozenset({7}), "bea") == 7
    assert {client: owner.account for client, owner in Owners(bea).known.items()} == {
        1: "ann", 7: "ann"}


def test_an_empty_document():
    assert author_runs(Doc()) == []
