"""@mentions read by the server: in comment text (crdt/mentions.py, the same pattern as the
browser's frontend/src/shared/mentions.js) and in the document's text (crdt/body_mentions.py)."""

from __future__ import annotations

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.body_mentions import MAX_PEOPLE, body_mentions
from crdt.mentions import MAX_MENTIONS, mentioned_usernames


def test_usernames_are_read_as_typed():
    assert mentioned_usernames("@Ada, can you and @bea.k check? Ask @cy.") == ["ada", "bea.k", "cy"]
    assert mentioned_usernames("mail ada@example.com or @@x or @a") == []
    assert mentioned_usernames("@" + "a" * 50) == []  # longer than any username
    assert mentioned_usernames("@ada @ADA @ada") == ["ada"]


def test_hostile_bodies_are_bounded():
    many = " ".join(f"@user{i}" for i in range(1000))
    assert len(mentioned_usernames(many)) == MAX_MENTIONS
    assert mentioned_usernames("@" * 100_000) == []
    assert mentioned_usernames(("@" + "a" * 39 + "-") * 2000) == ["a" * 39 + "-"]  # once
    assert mentioned_usernames("x" * 100_000 + "@ada") == []  # not after a word character


def test_mentions_in_the_text_count_per_person_with_the_first_passage():
    doc = Doc()
    fragment = doc.get("default", type=XmlFragment)

    def mention(user: str) -> XmlElement:
        return XmlElement("mention", {"id": user, "label": user.title()})

    with doc.transaction():
        first = fragment.children.append(XmlElement("paragraph"))
        first.children.append(XmlText("Ask "))
        first.children.append(mention("u1"))
        item = fragment.children.append(XmlElement("bulletList")).children.append(
            XmlElement("listItem")).children.append(XmlElement("paragraph"))
        item.children.append(mention("u1"))
        item.children.append(XmlText(" and "))
        item.children.append(mention("u2"))
        odd = fragment.children.append(XmlElement("paragraph"))
        odd.children.append(XmlElement("mention", {"id": "x" * 65}))
        odd.children.append(XmlElement("mention", {"label": "no id"}))
    found = body_mentions(doc)
    assert {k: (v.count, v.passage) for k, v in found.items()} == {
        "u1": (2, "Ask @U1"), "u2": (1, "@U1 and @U2")}

    crowd = Doc()
    with crowd.transaction():
        paragraph = crowd.get("default", type=XmlFragment).children.append(XmlElement("paragraph"))
        for i in range(MAX_PEOPLE + 50):
            paragraph.children.append(mention(f"user{i}"))
    assert len(body_mentions(crowd)) == MAX_PEOPLE
