"""@mentions in the document's text: Tiptap's Mention node (``{"type": "mention", "attrs": {"id":
<account id>, "label": <name>, "username": …}}``), read from the editor JSON. The account id is
what counts; the label is only shown."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_PEOPLE = 200  # per document: mentions of more people than this are not followed


@dataclass
class Mentioned:
    count: int  # how many times the text mentions the person
    passage: str  # the text of the first block that does


def body_mentions(root: dict[str, Any]) -> dict[str, Mentioned]:
    """Who the text mentions (account id -> how often, and where first), from the JSON that
    `crdt.markdown.fragment_to_json` makes. Iterative."""
    found: dict[str, Mentioned] = {}
    stack = [root]
    while stack:
        node = stack.pop()
        content = node.get("content") or []
        mentions = [c for c in content if c.get("type") == "mention"]
        if mentions:
            passage = "".join(c.get("text", "") if c.get("type") == "text" else
                              "@" + str((c.get("attrs") or {}).get("label") or "")
                              if c.get("type") == "mention" else " " for c in content)
            for mention in mentions:
                person = (mention.get("attrs") or {}).get("id")
                if not isinstance(person, str) or not 0 < len(person) <= 64:
                    continue
                if person in found:
                    found[person].count += 1
                elif len(found) < MAX_PEOPLE:
                    found[person] = Mentioned(1, passage.strip())
        stack.extend(reversed([c for c in content if c.get("content")]))
    return found
