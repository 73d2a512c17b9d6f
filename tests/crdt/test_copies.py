"""Copies of a document (crdt/copies.py): the text and formatting as they stand, a new title,
comments dropped (threads and marks, nothing of them left in the bytes) or kept, images renamed.
"""

from __future__ import annotations

from pycrdt import Doc, Map, XmlElement, XmlFragment, XmlText

from crdt.comments import create_thread, list_threads
from crdt.copies import copy_state, moved_image, strip_comments
from crdt.images import image_sources
from crdt.markdown import fragment_to_json
from crdt.meta import get_title, set_title
from crdt.suggestions import INSERT

SOURCE, COPY = "src-doc", "copy-doc"
SHA = "a" * 64
ADA = {"id": "u-ada", "name": "Ada", "username": "ada", "color": "#1d4ed8"}
BEA = {"id": "u-bea", "name": "Bea", "username": "bea", "color": "#b91c1c"}


def source() -> Doc:
    """Bold and linked text, a stored image, an outside image, a pending suggestion and two
    overlapping comment threads."""
    doc = Doc()
    set_title(doc, "Plans")
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        heading = fragment.children.append(XmlElement("heading", {"level": 2}))
        heading.children.append(XmlText("Plans for spring"))
        paragraph = fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText())
        text.insert(0, "Bold move ", {"bold": {}})
        text.insert(len("Bold move "), "see site", {"link": {"href": "https://example.com"}})
        text.insert(len("Bold move see site"), " soon", {INSERT: {"id": "s1", "author": "u-bea",
                                                                   "at": 1.0}})
        pictures = fragment.children.append(XmlElement("paragraph"))
        pictures.children.append(XmlElement("image", {"src": f"/api/docs/{SOURCE}/images/{SHA}",
                                                      "alt": "ours"}))
        pictures.children.append(XmlElement("image", {"src": "https://example.com/x.png"}))
    create_thread(doc, author=ADA, body="Secret remark about spring", quote="Plans for")
    create_thread(doc, author=BEA, body="Another hidden note", quote="for spring")
    return doc


def load(update: bytes) -> Doc:
    doc = Doc()
    doc.apply_update(update)
    return doc


def without_comment_marks(json: dict) -> dict:
    """The JSON with every comment mark taken out (what a copy without comments must equal)."""
    if "marks" in json:
        marks = [m for m in json["marks"] if m["type"] != "comment"]
        json = {k: v for k, v in json.items() if k != "marks"}
        if marks:
            json["marks"] = marks
    if "content" in json:
        json = {**json, "content": [without_comment_marks(c) for c in json["content"]]}
    return json


def merged(json: dict) -> dict:
    """Adjacent text nodes with equal marks joined, as fragment_to_json gives them."""
    from crdt.markdown import _merge_text

    if "content" in json:
        json = {**json, "content": _merge_text([merged(c) for c in json["content"]])}
    return json


def test_a_copy_without_comments_keeps_text_and_formatting_and_drops_every_trace_of_them():
    doc = source()
    update = copy_state(doc.get_update(), source_id=SOURCE, doc_id=COPY, title="Copy of Plans",
                        comments=False)
    copy = load(update)
    assert get_title(copy) == "Copy of Plans"
    assert list_threads(copy) == []
    assert copy.get("comments", type=Map).to_py() == {}
    expected = merged(without_comment_marks(fragment_to_json(doc)))
    assert fragment_to_json(copy) == {
        **expected, "content": [*expected["content"][:2], {
            "type": "paragraph", "content": [
                {"type": "image", "attrs": {"alt": "ours", "src": f"/api/docs/{COPY}/images/{SHA}"}},
                {"type": "image", "attrs": {"src": "https://example.com/x.png"}}]}]}
    # what the threads said is gone from the bytes, not only hidden
    for secret in (b"Secret remark", b"hidden note", b"u-ada"):
        assert secret not in update
    # the source is untouched
    assert len(list_threads(doc)) == 2
    assert image_sources(doc)[0] == f"/api/docs/{SOURCE}/images/{SHA}"


def test_a_copy_with_comments_keeps_threads_and_their_anchors():
    doc = source()
    copy = load(copy_state(doc.get_update(), source_id=SOURCE, doc_id=COPY, title="Mine",
                           comments=True))
    assert fragment_to_json(copy)["content"][:2] == fragment_to_json(doc)["content"][:2]
    threads = {t["messages"][0]["body"]: (t["anchor_text"], t["state"]) for t in list_threads(copy)}
    assert threads == {"Secret remark about spring": ("Plans for", "open"),
                       "Another hidden note": ("for spring", "open")}
    assert get_title(copy) == "Mine"


def test_strip_comments_on_an_empty_document_and_a_mark_without_its_thread():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        text = fragment.children.append(XmlElement("paragraph")).children.append(XmlText())
        text.insert(0, "orphan", {"comment--AAAAAAAA": {"threadId": "gone"}, "italic": {}})
    assert strip_comments(doc) == 0
    assert fragment_to_json(doc)["content"][0]["content"] == [
        {"type": "text", "text": "orphan", "marks": [{"type": "italic"}]}]
    assert strip_comments(Doc()) == 0


def test_only_the_sources_own_images_are_renamed():
    ours = f"/api/docs/{SOURCE}/images/{SHA}"
    assert moved_image(ours, source_id=SOURCE, doc_id=COPY) == f"/api/docs/{COPY}/images/{SHA}"
    absolute = "http://quire.example" + ours
    assert moved_image(absolute, source_id=SOURCE, doc_id=COPY) == (
        f"http://quire.example/api/docs/{COPY}/images/{SHA}")
    assert moved_image(f"/api/docs/other/images/{SHA}", source_id=SOURCE, doc_id=COPY) is None
    assert moved_image("https://example.com/a.png", source_id=SOURCE, doc_id=COPY) is None
