"""Who owns which comment thread and message, read from the updates a document integrates.

Comment data lives in the root map "comments" (see crdt/comments.py): thread maps keyed by
thread id, each with an `author` person and a `messages` array of message maps with their own
`author`. Judging a client's update (crdt/judge.py) needs to know, for an item's place, which
thread or message it belongs to and whose that is — without reading the document. The ledger
learns it from each integrated update's placed items (`crdt.structs.Resolution`): the item IDs
of thread maps, messages arrays and message maps, and the `id` in each `author` value when it
is first written (authorship never changes afterwards; the judge refuses updates that try).
"""

from __future__ import annotations

from dataclasses import dataclass

from crdt.comments import mark_key
from crdt.structs import Placed, Resolution
from crdt.update_format import ANY, ID, TYPE, Y_ARRAY, Y_MAP, UpdateError, read_anys

COMMENTS = "comments"


@dataclass(slots=True)
class Owned:
    """A thread or a message: its author's id (None: written before ids, or by nobody)."""

    thread: ID  # the thread map's item (itself, for a thread)
    author: str | None = None
    author_seen: bool = False
    deleted: bool = False
    assignee: str | None = None  # a thread's: the account it is assigned to (the last one set)


class CommentLedger:
    """Thread maps, messages arrays and message maps of one document, by item ID."""

    __slots__ = ("threads", "live", "arrays", "messages", "keys")

    def __init__(self) -> None:
        self.threads: dict[ID, Owned] = {}  # thread map item -> its owner
        self.live: dict[str, ID] = {}  # thread id (key in "comments") -> its thread map item
        self.arrays: dict[ID, ID] = {}  # messages array item -> its thread map item
        self.messages: dict[ID, Owned] = {}  # message map item -> its owner
        self.keys: dict[str, str] = {}  # y-tiptap mark key "comment--<hash>" -> thread id

    def thread_of_key(self, key: str) -> Owned | None:
        """The live thread whose highlight mark uses the formatting key `key`."""
        thread_id = self.keys.get(key)
        item = self.live.get(thread_id) if thread_id is not None else None
        return self.threads.get(item) if item is not None else None

    def owner_of(self, parent: ID) -> Owned | None:
        """The thread or message a map item (by its ID) is."""
        return self.threads.get(parent) or self.messages.get(parent)

    def add(self, resolution: Resolution, data: bytes) -> None:
        """Learn what an integrated update (resolved against the index before it was added)
        created or deleted."""
        for item in resolution.items:
            place = item.place
            if place is None or place.root != COMMENTS:
                continue
            struct = item.struct
            item_id = (struct.client, item.clock)
            parent = place.parent
            if isinstance(parent, str):  # a value of the root map: a thread
                if struct.kind == TYPE and struct.type_ref == Y_MAP and place.key:
                    self.threads[item_id] = Owned(item_id)
                    self.live[place.key] = item_id
                    self.keys[mark_key(place.key)] = place.key
                continue
            if parent in self.arrays:
                if struct.kind == TYPE and struct.type_ref == Y_MAP:
                    self.messages[item_id] = Owned(self.arrays[parent])
                continue
            owned = self.owner_of(parent)
            if owned is None:
                continue
            if place.key == "messages" and parent in self.threads and struct.kind == TYPE \
                    and struct.type_ref == Y_ARRAY:
                self.arrays[item_id] = parent
            elif place.key == "author" and struct.kind == ANY and not owned.author_seen:
                owned.author_seen = True
                owned.author = person_id(item_value(data, item))
            elif place.key == "assignee" and struct.kind == ANY and parent in self.threads:
                owned.assignee = person_id(item_value(data, item))
        for client, clock, length, kind, place, _ in resolution.deletes:
            if kind != TYPE or place is None or place.root != COMMENTS:
                continue
            for at in range(clock, clock + length):
                owned = self.threads.get((client, at)) or self.messages.get((client, at))
                if owned is not None:
                    owned.deleted = True
                if isinstance(place.parent, str) and place.key is not None \
                        and self.live.get(place.key) == (client, at):
                    del self.live[place.key]


def item_value(data: bytes, item: Placed) -> object:
    """The (last) value an ANY item holds, or None if unreadable."""
    try:
        values = read_anys(data, item.struct.span)
    except (UpdateError, IndexError, UnicodeDecodeError):
        return None
    if item.clock != item.struct.clock:  # only its tail is new
        values = values[item.clock - item.struct.clock:]
    return values[-1] if values else None


def person_id(value: object) -> str | None:
    """The account id in a person object {id, name, username, color}."""
    if isinstance(value, dict):
        found = value.get("id")
        return found if isinstance(found, str) and found else None
    return None
