"""Who wrote what (issue 15): which account each Yjs client id belongs to, and the text by author.

Every browser session edits under a random Yjs client id, and every item of the document keeps
the id that made it. The first time a connection's update brings items of a client id, the room
records that id as the connection's (`Owners.record`), in the document's own "authors" map: a server
change everyone receives and that is stored with the document, so attribution survives reloads,
restarts and other processes, and is part of every version. Clients may not write that map
(crdt/judge.py), and an update bringing items under an id recorded for someone else is refused
(`Owners.claimed_by_other`): nobody writes in another person's name, and nothing a browser says about
itself is believed.

`author_runs` cuts a document's plain text (crdt/plain_text.py) into runs by author. Yrs alone
knows the order of the items, so for each author it deletes that author's text in a private
copy and watches where the copy's texts shrink: no ordering is reimplemented here. Text whose
client id was never recorded (written before this existed, by the server itself, or without
accounts) has no author.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pycrdt import Doc, Map, XmlFragment, XmlText

from crdt.budget import Deadline
from crdt.plain_text import FRAGMENT, walk
from crdt.update_format import STRING, encode_delete_set, parse_update

AUTHORS = "authors"
#: accounts told apart in one answer; the text of any further ones has no author
MAX_AUTHORS = 100


@dataclass(frozen=True, slots=True)
class Recorded:
    """Whose a client id is: an account id ("link:<share id>" for a share link) and the name
    the server knew them by when it recorded it."""

    account: str
    name: str | None


def _read(value: Any) -> Recorded | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str) and value["id"]:
        name = value.get("name")
        return Recorded(value["id"], name if isinstance(name, str) else None)
    return None


def authors_map(doc: Doc[Any]) -> Map[Any]:
    authors: Map[Any] = doc.get(AUTHORS, type=Map)
    return authors


class Owners:
    """A document's "authors" map mirrored in a dict, kept current by observing the map (its
    own writes, stored state, other processes): a keystroke's check is a dict lookup."""

    __slots__ = ("map", "known", "_subscription")

    def __init__(self, doc: Doc[Any]) -> None:
        self.map = authors_map(doc)
        self.known: dict[int, Recorded] = _owners_in(self.map)  # client id -> whose
        self._subscription = self.map.observe(self._changed)

    def _changed(self, event: Any) -> None:
        for key, change in event.keys.items():
            self._learn(key, change.get("newValue"))

    def _learn(self, key: str, value: Any) -> None:
        owner = _read(value)
        if owner is not None and key.isdigit():
            self.known[int(key)] = owner

    def claimed_by_other(self, clients: frozenset[int], account: str) -> int | None:
        """The first of `clients` recorded as someone else's, or None."""
        known = self.known
        for client in clients:
            owner = known.get(client)
            if owner is not None and owner.account != account:
                return client
        return None

    def record(self, clients: frozenset[int], account: str, name: str | None) -> int:
        """`record` the unrecorded of `clients` as `account`'s."""
        if all(client in self.known for client in clients):
            return 0
        return record(self.map, clients, account, name)


def record(authors: Map[Any], clients: frozenset[int], account: str, name: str | None) -> int:
    """Record the unrecorded of `clients` as `account`'s (call inside a server transaction or
    alone: each write is one change). Returns how many were new."""
    new = [client for client in clients if authors.get(str(client)) is None]
    if new:
        with authors.doc.transaction():
            for client in new:
                authors[str(client)] = {"id": account, "name": name}
    return len(new)


def owners(doc: Doc[Any]) -> dict[int, Recorded]:
    """Every recorded client id of `doc`."""
    return _owners_in(authors_map(doc))


def _owners_in(authors: Map[Any]) -> dict[int, Recorded]:
    found: dict[int, Recorded] = {}
    for key, value in authors.items():
        owner = _read(value)
        if owner is not None and key.isdigit():
            found[int(key)] = owner
    return found


@dataclass(frozen=True, slots=True)
class AuthorRun:
    text: str
    account: str | None


def author_runs(doc: Doc[Any], deadline: Deadline | None = None) -> list[AuthorRun]:
    """`doc`'s plain text (one line per text block) in runs by author, in order; the runs'
    texts joined are exactly crdt.plain_text.document_text(doc). `doc` must be private to the
    caller (a copy, or on the event loop)."""
    text, runs = walk(doc)
    clients = owners(doc)
    state = doc.get_update()
    by_account: dict[str, list[tuple[int, int, int]]] = {}
    for struct in parse_update(state).structs:
        if struct.kind == STRING:
            owner = clients.get(struct.client)
            if owner is not None and (owner.account in by_account
                                      or len(by_account) < MAX_AUTHORS):
                by_account.setdefault(owner.account, []).append(
                    (struct.client, struct.clock, struct.length))
    # path of an XmlText -> [(start, end, account)] in its own (UTF-8 byte) offsets
    spans: dict[tuple[int, ...], list[tuple[int, int, str]]] = {}
    for account, ranges in by_account.items():
        if deadline is not None:
            deadline.check()
        for path, start, end in _deleted_spans(state, ranges):
            spans.setdefault(path, []).append((start, end, account))
    pieces: list[AuthorRun] = []
    at = 0
    for run in runs:
        if run.start > at:  # the line breaks between blocks
            pieces.append(AuthorRun(text[at:run.start], None))
        pieces.extend(_split(run.text, run.index, spans.get(run.path, [])))
        at = run.start + len(run.text)
    if at < len(text):
        pieces.append(AuthorRun(text[at:], None))
    return _merge(pieces)


def _deleted_spans(state: bytes, ranges: list[tuple[int, int, int]]
                   ) -> list[tuple[tuple[int, ...], int, int]]:
    """Where the text shrinks when `ranges` (client, clock, length) are deleted from a copy of
    `state`: (path of the XmlText, start, end) in the XmlText's offsets before the deletion."""
    copy: Doc[Any] = Doc()
    copy.apply_update(state)
    events: list[tuple[tuple[int, ...], list[dict[str, Any]]]] = []

    def seen(batch: list[Any]) -> None:
        for event in batch:
            if isinstance(event.target, XmlText):
                events.append((tuple(event.path), list(event.delta)))

    fragment = copy.get(FRAGMENT, type=XmlFragment)
    subscription = fragment.observe_deep(seen)
    try:
        copy.apply_update(b"\x00" + encode_delete_set(ranges))
    finally:
        fragment.unobserve(subscription)
    found: list[tuple[tuple[int, ...], int, int]] = []
    for path, delta in events:
        at = 0
        for op in delta:
            if "retain" in op:
                at += int(op["retain"])
            elif "delete" in op:
                found.append((path, at, at + int(op["delete"])))
                at += int(op["delete"])
    return found


def _split(chunk: str, index: int, spans: list[tuple[int, int, str]]) -> list[AuthorRun]:
    """`chunk` (which starts at `index` of its XmlText) cut where `spans` say who wrote it."""
    data = chunk.encode("utf-8")
    end = index + len(data)
    pieces: list[AuthorRun] = []
    at = index
    for start, stop, account in sorted(spans):
        start, stop = max(start, at), min(stop, end)
        if start >= stop:
            continue
        if start > at:
            pieces.append(AuthorRun(data[at - index:start - index].decode("utf-8"), None))
        pieces.append(AuthorRun(data[start - index:stop - index].decode("utf-8"), account))
        at = stop
    if at < end:
        pieces.append(AuthorRun(data[at - index:].decode("utf-8"), None))
    return pieces


def _merge(pieces: list[AuthorRun]) -> list[AuthorRun]:
    """Neighbours by the same author as one run; a line break between two runs of one author
    belongs to them."""
    out: list[AuthorRun] = []
    for number, piece in enumerate(pieces):
        account = piece.account
        if account is None and piece.text.strip("\n") == "" and out and number + 1 < len(pieces) \
                and pieces[number + 1].account == out[-1].account:
            account = out[-1].account
        if out and out[-1].account == account:
            out[-1] = AuthorRun(out[-1].text + piece.text, account)
        elif piece.text:
            out.append(AuthorRun(piece.text, account))
    return out
