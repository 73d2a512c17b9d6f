"""@mentions in the document's text: Tiptap's Mention node, an inline element
``<mention id="<account id>" label="<name>" username="…">`` in the fragment. The account id is
what counts; the label is only shown. Read by walking the fragment's elements (text is only read
for the blocks that hold a mention), so a long document without mentions costs little."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.plain_text import FRAGMENT

MAX_PEOPLE = 200  # per document: mentions of more people than this are not followed
MAX_PASSAGE = 300


@dataclass
class Mentioned:
    count: int  # how many times the text mentions the person
    passage: str  # the text of the first block that does


def _passage(block: XmlElement) -> str:
    parts: list[str] = []
    for child in block.children:
        if isinstance(child, XmlText):
            parts.append(str(child))
        elif isinstance(child, XmlElement) and child.tag == "mention":
            parts.append("@" + str(child.attributes.get("label") or ""))
        if sum(map(len, parts)) > MAX_PASSAGE:
            break
    return " ".join("".join(parts).split())[:MAX_PASSAGE]


def body_mentions(doc: Doc[Any]) -> dict[str, Mentioned]:
    """Who the text mentions: account id -> how often, and where first. Iterative."""
    found: dict[str, Mentioned] = {}
    with doc.transaction():
        stack: list[XmlFragment | XmlElement] = [doc.get(FRAGMENT, type=XmlFragment)]
        while stack:
            node = stack.pop()
            children = [c for c in node.children if isinstance(c, XmlElement)]
            mentions = [c for c in children if c.tag == "mention"]
            if mentions and isinstance(node, XmlElement):
                passage = None
                for mention in mentions:
                    person = mention.attributes.get("id")
                    if not isinstance(person, str) or not 0 < len(person) <= 64:
                        continue
                    if person in found:
                        found[person].count += 1
                    elif len(found) < MAX_PEOPLE:
                        passage = passage if passage is not None else _passage(node)
                        found[person] = Mentioned(1, passage)
            stack.extend(reversed([c for c in children if c.tag != "mention"]))
    return found
