"""What a person may change in a document, judged on an update's integrated effect before it is
applied (the update is placed by `crdt.structs.StructIndex`; nothing is applied to a copy).

No role may add sub-documents (Quire uses none), or write the "authors" map (which account each
Yjs client id is: only the server records it, crdt/authors.py).

Roles:
- viewer: nothing. (A viewer's browser still sends Yjs's formatting clean-ups: deleting
  redundant format markers after remote edits. Those are dropped without a word.)
- commenter: comment data, under the rules below, and the highlight marks of their own threads
  (formatting attributes `comment--<hash>` whose hash is y-tiptap's for `{threadId}` of an
  existing thread they started, set to that mark or to null). Text, formatting and deletions in
  the text (accounts on) are suggestions: marked `suggest`, they are checked on a copy of the
  document against crdt/suggestions.py's rules before anything is applied. Anything else —
  new paragraphs or nodes, node attributes, the title, other roots, deleting anything but their
  own comment data — is refused.
- everyone: a suggestion mark (`suggestInsert`/`suggestDelete`) names its author: a commenter's
  under another account is refused, an editor's is corrected after it is applied. Deleting other format markers (those clean-ups again) is left out of the
  update rather than refused.
- editor, owner: anything outside comment data; comment data under the rules below.

Comment data (the "comments" root; crdt/comments.py), for everyone when accounts are on:
- a new thread or message carries `author.id` = the sender's id (`resolvedBy.id` likewise);
- a thread key is never set again while its thread exists (no replacing a thread);
- `id`, `author`, `createdAt`, `quote` and `messages` of a thread, and `id`, `author`,
  `createdAt` of a message, never change once written;
- a message's `body`/`editedAt` change only by its author (the owner may blank the body of a
  message it deletes); `deleted` by its author or the owner;
- `resolved`/`resolvedAt`/`resolvedBy` by the thread's author, its assignee (marking it done),
  an editor or the owner;
- `assignee` (a person with an account id, or null) by the thread's author, an editor or the
  owner;
- a thread is deleted by its author or the owner; a message is removed from its array only by
  the owner (people delete messages by tombstone).
Data from before authors had ids is owned by nobody: only what editors and the owner may do to
anyone's data applies to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from crdt.authors import AUTHORS
from crdt.comment_ledger import COMMENTS, CommentLedger, Owned, item_value, person_id
from crdt.comments import mark_key
from crdt.structs import Place, Placed, Resolution
from crdt.suggestions import KEYS as SUGGESTION_KEYS
from crdt.update_format import DOC, FORMAT, ID, STRING, TYPE, Y_ARRAY, Y_MAP

WRITE_ROLES = frozenset({"editor", "owner"})
THREAD_STATE = frozenset({"resolved", "resolvedAt", "resolvedBy"})
MESSAGE_TEXT = frozenset({"body", "editedAt"})
MARK_PREFIX = "comment--"


class Refused(Exception):
    """The update goes beyond what its sender may do; `reason` is shown to them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(slots=True)
class Verdict:
    """An update that may be applied, less `drop` (deletions to leave out); `silent` when
    nothing is left of it (then it is ignored without telling anyone). `suggest`: a commenter's
    change to the text, to be checked as suggestions on a copy (crdt/suggestions.py);
    `misattributed`: ids of suggestions an editor made under another author (corrected)."""

    drop: list[tuple[int, int, int]] = field(default_factory=list)
    silent: bool = False
    suggest: bool = False
    misattributed: set[str] = field(default_factory=set)


def judge(resolution: Resolution, data: bytes, *, role: str, who: str | None,
          ledger: CommentLedger) -> Verdict:
    """Raise Refused unless `role` (acting as account `who`; None: accounts are off) may make
    the change `resolution` describes (`data`: the update's bytes)."""
    if role not in WRITE_ROLES and role != "commenter":
        if not resolution.items and not resolution.new_deletes and all(
                kind == FORMAT for _, _, _, kind, _, _ in resolution.deletes):
            return Verdict([(c, k, n) for c, k, n, *_ in resolution.deletes], silent=True)
        raise Refused("read-only access: changes are not saved")
    return _Judge(resolution, data, role, who, ledger).verdict()


class _Judge:
    def __init__(self, resolution: Resolution, data: bytes, role: str, who: str | None,
                 ledger: CommentLedger) -> None:
        self.res = resolution
        self.data = data
        self.role = role
        self.who = who
        self.enforce = who is not None  # accounts on: ownership holds
        self.writer = role in WRITE_ROLES
        self.ledger = ledger
        self.new_threads: dict[ID, Owned] = {}
        self.new_keys: dict[str, Owned] = {}  # thread id -> new thread
        self.new_arrays: dict[ID, ID] = {}
        self.new_messages: dict[ID, Owned] = {}
        self.written: set[Place] = set()  # places that get a new value in this update
        self.gone: set[ID] = set()  # threads and messages this update deletes
        self._authored: set[ID] | None = None  # maps given an `author` by this update
        self.suggest = False  # a commenter changes the text: check it as suggestions
        self.misattributed: set[str] = set()

    def verdict(self) -> Verdict:
        outside: list[Placed] = []
        for item in self.res.items:
            place = item.place
            if item.struct.kind == DOC:  # Quire has none; Yrs would load and keep them
                raise Refused("sub-documents are not supported")
            if place is None:
                continue  # collected on arrival: changes nothing
            if place.root == AUTHORS:
                raise Refused("only the server records who wrote what")
            if place.root == COMMENTS:
                if self.enforce:
                    self._comment_item(item, place)
            else:
                if item.struct.kind == FORMAT and item.struct.format_key in SUGGESTION_KEYS:
                    self._suggestion_author(item)
                if not self.writer:
                    outside.append(item)
        for item in self.res.items:  # authors are checked once every new thread is known
            if item.place is not None and item.place.root == COMMENTS and self.enforce:
                self._author_of_new(item, item.place)
        for item in outside:  # marks need their threads' authors (maybe new ones)
            self._commenter_item(item, item.place)  # type: ignore[arg-type]
        drop: list[tuple[int, int, int]] = []
        deletes = self.res.deletes
        if self.enforce:
            for entry in deletes:
                self._delete_whole(entry)
        for entry in deletes:
            client, clock, length, kind, place, extra = entry
            if place is None:
                continue
            if place.root == AUTHORS:
                raise Refused("only the server records who wrote what")
            if place.root == COMMENTS:
                if self.enforce:
                    self._delete_part(entry)
            elif self.writer:
                continue
            elif kind == FORMAT and isinstance(extra, str) and self._own_mark(extra):
                continue
            elif kind == FORMAT and extra in SUGGESTION_KEYS and self.enforce:
                self.suggest = True  # withdrawing a suggestion: checked on a copy
            elif kind == FORMAT:
                drop.append((client, clock, length))  # someone's clean-up: left out
            elif place.root == "default" and self.enforce:
                self.suggest = True  # withdrawing their own suggested text, or refused then
            else:
                raise Refused("a commenter may only add comments: the update deletes "
                              + _what(place.root))
        silent = bool(drop) and not self.res.items and not self.res.new_deletes and len(
            drop) == len(deletes)
        return Verdict(drop, silent, self.suggest, self.misattributed)

    def _suggestion_author(self, item: Placed) -> None:
        """A suggestion is made in its author's name: a commenter's under another is refused,
        an editor's is corrected after it is applied."""
        if not self.enforce:
            return
        try:
            value = json.loads(item.struct.value or "null")
        except ValueError:
            raise Refused("a suggestion mark that is not JSON") from None
        if value is None:
            return
        if not (isinstance(value, dict) and isinstance(value.get("id"), str)
                and 0 < len(value["id"]) <= 64):
            raise Refused("a formatting attribute that is not a well-formed suggestion")
        if value.get("author") != self.who:
            if not self.writer:
                raise Refused("a suggestion is made in its author's own name")
            self.misattributed.add(value["id"])

    # ---- items outside comment data (commenters) ---------------------------------------------

    def _commenter_item(self, item: Placed, place: Place) -> None:
        struct = item.struct
        if place.root == "default" and struct.kind == STRING and self.enforce:
            self.suggest = True  # suggested text: checked on a copy (crdt/suggestions.py)
            return
        if struct.kind != FORMAT or place.root != "default":
            raise Refused("a commenter may only add comments: the update changes "
                          + _what(place.root))
        key = struct.format_key or ""
        if not key.startswith(MARK_PREFIX):
            if not self.enforce:
                raise Refused("a commenter may only add comments: the update formats the text")
            self.suggest = True  # suggesting (or formatting their suggestion): checked on a copy
            return
        try:
            value = json.loads(struct.value or "null")
        except ValueError:
            raise Refused("a comment mark that is not JSON") from None
        if value is None:
            owner = self._thread_by_mark(key)
        elif (isinstance(value, dict) and list(value) == ["threadId"]
              and isinstance(value["threadId"], str) and mark_key(value["threadId"]) == key):
            owner = self.new_keys.get(value["threadId"])
            if owner is None:
                live = self.ledger.live.get(value["threadId"])
                owner = self.ledger.threads.get(live) if live is not None else None
        else:
            raise Refused("a formatting attribute that is not a well-formed comment mark")
        if owner is None:
            raise Refused("a comment mark for a thread that does not exist")
        if self.enforce and owner.author != self.who:
            raise Refused("a commenter may only highlight their own comment threads")

    def _thread_by_mark(self, key: str) -> Owned | None:
        for thread_id, owned in self.new_keys.items():
            if mark_key(thread_id) == key:
                return owned
        return self.ledger.thread_of_key(key)

    def _own_mark(self, key: str) -> bool:
        owner = self._thread_by_mark(key)
        return owner is not None and (not self.enforce or owner.author == self.who)

    # ---- comment data ------------------------------------------------------------------------

    def _comment_item(self, item: Placed, place: Place) -> None:
        struct = item.struct
        item_id = (struct.client, item.clock)
        parent, key = place.parent, place.key
        ledger = self.ledger
        if isinstance(parent, str):  # a value of the "comments" map: a thread
            if key is None:
                raise Refused("unexpected comment data")
            if key in ledger.live or key in self.new_keys:
                raise Refused("the update replaces an existing comment thread")
            if not (struct.kind == TYPE and struct.type_ref == Y_MAP):
                raise Refused("the comments map holds only threads")
            owned = Owned(item_id)
            self.new_threads[item_id] = owned
            self.new_keys[key] = owned
            return
        if parent in self.new_threads or parent in self.new_messages:
            if key == "messages" and parent in self.new_threads:
                if not (struct.kind == TYPE and struct.type_ref == Y_ARRAY):
                    raise Refused("a thread's messages must be a list")
                self.new_arrays[item_id] = parent
            elif key is None or struct.kind == TYPE:
                raise Refused("unexpected comment data")
            self.written.add(place)
            return
        if parent in self.new_arrays or parent in ledger.arrays:
            if key is not None or not (struct.kind == TYPE and struct.type_ref == Y_MAP):
                raise Refused("a thread's messages must be maps")
            thread_id = self.new_arrays.get(parent) or ledger.arrays[parent]
            self.new_messages[item_id] = Owned(thread_id)
            return
        thread = ledger.threads.get(parent)
        if thread is not None:
            authored = thread.author is not None and thread.author == self.who
            if key == "assignee":
                if not (self.writer or authored):
                    raise Refused("only the thread's author, an editor or the owner may assign it")
                value = item_value(self.data, item)
                if value is not None and person_id(value) is None:
                    raise Refused("a thread is assigned to a person with an account")
                self.written.add(place)
                return
            if key not in THREAD_STATE:
                raise Refused("the author, quote and messages of a comment thread never change")
            assigned = thread.assignee is not None and thread.assignee == self.who
            if not (self.writer or authored or assigned):
                raise Refused("only the thread's author, its assignee, an editor or the owner "
                              "may resolve it")
            if key == "resolvedBy":
                value = item_value(self.data, item)
                if value is not None and person_id(value) != self.who:
                    raise Refused("a thread is resolved in its resolver's own name")
            self.written.add(place)
            return
        message = ledger.messages.get(parent)
        if message is not None:
            mine = message.author is not None and message.author == self.who
            if key in MESSAGE_TEXT:
                blanking = (self.role == "owner" and key == "body"
                            and item_value(self.data, item) == "")
                if not (mine or blanking):
                    raise Refused("only its author may edit a comment")
            elif key == "deleted":
                if not (mine or self.role == "owner"):
                    raise Refused("only its author or the owner may delete a comment")
            else:
                raise Refused("who wrote a comment, and when, never changes")
            self.written.add(place)
            return
        raise Refused("unexpected comment data")

    def _author_of_new(self, item: Placed, place: Place) -> None:
        """A new thread's or message's `author` (and a new thread's `resolvedBy`) must be the
        sender; every new thread and message must name its author."""
        parent = place.parent
        if isinstance(parent, str):
            owned = self.new_threads.get((item.struct.client, item.clock))
            if owned is not None and not self._names_author(owned, item):
                raise Refused("a comment thread must name its author")
            return
        if (place.key in ("author", "resolvedBy")
                and (parent in self.new_threads or parent in self.new_messages)):
            value = item_value(self.data, item)
            if place.key == "resolvedBy" and value is None:
                return
            if person_id(value) != self.who:
                raise Refused("a comment is posted under its author's own account")
            owned = self.new_threads.get(parent) or self.new_messages[parent]
            if place.key == "author":
                owned.author = self.who
                owned.author_seen = True
        elif parent in self.new_arrays or parent in self.ledger.arrays:
            owned = self.new_messages.get((item.struct.client, item.clock))
            if owned is not None and not self._names_author(owned, item):
                raise Refused("a comment must name its author")

    def _names_author(self, owned: Owned, item: Placed) -> bool:
        if self._authored is None:
            self._authored = {other.place.parent for other in self.res.items
                              if other.place is not None and other.place.key == "author"
                              and isinstance(other.place.parent, tuple)}
        return (item.struct.client, item.clock) in self._authored

    def _delete_whole(self, entry: tuple[Any, ...]) -> None:
        """Deleting a thread (a value of the root map) or removing a message from its array."""
        client, clock, length, kind, place, _ = entry
        if place is None or place.root != COMMENTS or kind != TYPE:
            return
        parent = place.parent
        if isinstance(parent, str):
            for at in range(clock, clock + length):
                thread = self.ledger.threads.get((client, at))
                if thread is None:
                    continue
                if not (self.role == "owner"
                        or (thread.author is not None and thread.author == self.who)):
                    raise Refused("only its author or the owner may delete a comment thread")
                self.gone.add((client, at))
        elif parent in self.ledger.arrays:
            if self.role != "owner" and self.ledger.arrays[parent] not in self.gone:
                raise Refused("comments are deleted by marking them deleted")
            self.gone.update((client, at) for at in range(clock, clock + length))

    def _delete_part(self, entry: tuple[Any, ...]) -> None:
        client, clock, length, kind, place, _ = entry
        parent = place.parent
        if isinstance(parent, str):
            if kind == TYPE and all((client, at) in self.gone
                                    for at in range(clock, clock + length)):
                return
            if self.role != "owner":
                raise Refused("unexpected comment data")
            return
        if place in self.written:
            return  # the old value of a key this update sets (allowed above)
        ledger = self.ledger
        if parent in ledger.threads:
            thread: ID | None = parent
        elif parent in ledger.arrays:
            thread = ledger.arrays[parent]
        elif parent in ledger.messages:
            if parent in self.gone:
                return
            thread = ledger.messages[parent].thread
        else:
            thread = None
        if thread is not None and thread in self.gone:
            return  # part of a thread being deleted
        if parent in ledger.arrays and kind == TYPE and all(
                (client, at) in self.gone for at in range(clock, clock + length)):
            return
        raise Refused("the update deletes comment data it may not change")


def _what(root: str) -> str:
    return {"default": "the text", "meta": "the title"}.get(root, f"{root!r}")
