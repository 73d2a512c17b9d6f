"""`SearchIndexer`: keeps the search index (storage/search.py) in step with the documents.

The index is made from the server's own copy of each document, never from what a browser says:
a room's changes mark its document, and once the edits pause for `debounce` seconds (or after
`max_wait` of continuous editing), a copy of its state (bytes, taken on the event loop) is read
on a worker thread into index entries (title, text, one per comment thread) written in one
transaction. Nothing of this runs on the keystroke path: marking a document is a dict write.
The documents waiting are `Deadlines` (server/waiting.py): marking one and finding those due
cost O(log n), however many are being edited.
A room that unloads is indexed at once; documents made or changed without a room (import, the
CLI) are indexed from storage. The index lives in the database, so it survives restarts and
every process shares it; `quire search reindex` rebuilds it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pycrdt import Doc
from sqlalchemy.engine import Engine

from crdt.body_mentions import Mentioned, body_mentions
from crdt.comments import list_threads
from crdt.gate import stored_state
from crdt.meta import get_title
from crdt.plain_text import document_text
from crdt.room import Room
from crdt.rooms import Rooms
from server.waiting import Deadlines, wait_until
from storage import assignments, search
from storage.documents import get_document
from storage.models import Assignment
from storage.updates import load_updates

log = logging.getLogger("quire.search")


@dataclass
class Indexed:
    """What one pass over a document's state found."""

    entries: list[search.Entry]
    assigned: list[Assignment]
    mentions: dict[str, Mentioned]  # who the text @mentions


def entries_of(state: bytes, title: str | None = None) -> Indexed:
    """What the index holds for a document whose (trusted) state is `state`, its open threads
    assigned to someone, and who its text mentions. Blocking: builds a private Doc, so run it
    off the event loop."""
    doc: Doc[Any] = Doc()
    doc.apply_update(state)
    found = [search.Entry("title", get_title(doc) or title or ""),
             search.Entry("text", document_text(doc))]
    assigned = []
    for thread in list_threads(doc):
        bodies = [m["body"] for m in thread["messages"] if not m["deleted"]]
        found.append(search.Entry("comment", "\n".join([thread["quote"], *bodies]),
                                  thread_id=thread["id"]))
        assignee = thread.get("assignee") or {}
        if assignee.get("id") and not thread["resolved"]:
            assigned.append(Assignment(doc_id="", thread_id=thread["id"], user_id=assignee["id"],
                                       quote=thread["quote"],
                                       assigned_by=(thread["author"] or {}).get("name") or ""))
    return Indexed(found, assigned, body_mentions(doc))


def write_index(engine: Engine, doc_id: str, state: bytes, title: str | None = None) -> Indexed:
    """Rewrite a document's search entries and assignments from `state` (blocking)."""
    indexed = entries_of(state, title)
    search.replace_entries(engine, doc_id=doc_id, entries=indexed.entries)
    assignments.replace_for(engine, doc_id=doc_id, rows=indexed.assigned)
    return indexed


def index_stored(engine: Engine, doc_id: str) -> Indexed | None:
    """Index a document from what is stored (blocking). None if it no longer exists."""
    record = get_document(engine, doc_id=doc_id)
    if record is None:
        search.remove(engine, doc_id=doc_id)
        return None
    state, problems = stored_state(load_updates(engine, doc_id=doc_id).updates)
    for problem in problems:
        log.warning("doc %s: indexing left out part of the stored state: %s", doc_id, problem)
    return write_index(engine, doc_id, state, record.title)


class SearchIndexer:
    def __init__(self, engine: Engine, rooms: Rooms, *, debounce: float = 2.0,
                 max_wait: float = 30.0) -> None:
        self.engine = engine
        self.rooms = rooms
        self.debounce = debounce
        self.max_wait = max_wait
        self._due: dict[str, tuple[float, float]] = {}  # doc id -> (first mark, last mark)
        # when each document in `_due` may fall due (its last mark may have moved it later)
        self._deadlines: Deadlines[str] = Deadlines()
        self._wake = asyncio.Event()
        # told what each pass found (e.g. @mentions in the text: server/notify.py)
        self.indexed_observers: list[Callable[[str, Indexed], Awaitable[None]]] = []

    def attach(self) -> None:
        self.rooms.room_observers.append(self.watch)
        self.rooms.unload_observers.append(self.on_unload)

    def watch(self, room: Room) -> None:
        doc_id = room.doc_id

        def changed(_update: bytes, _origin: object) -> None:
            self.mark(doc_id)

        room.update_observers.append(changed)

    def mark(self, doc_id: str) -> None:
        """`doc_id` changed: index it once the changes pause (cheap; any thread-safe caller on
        the loop, including REST routes after an import or a rename)."""
        now = time.monotonic()
        marks = self._due.get(doc_id)
        if marks is None:
            self._due[doc_id] = (now, now)
            # a newcomer falls due after everyone waiting (their marks are older): the loop
            # needs waking only when it had nothing to wait for
            if self._deadlines.at(doc_id, self._due_at((now, now))):
                self._wake.set()
        else:  # already waiting: the loop sees the later mark when the earlier time comes
            self._due[doc_id] = (marks[0], now)

    async def on_unload(self, room: Room) -> None:
        """The last person left: index what they leave (the room's copy, at once)."""
        self._due.pop(room.doc_id, None)
        self._deadlines.discard(room.doc_id)
        await self._index_room(room)

    def _due_at(self, marks: tuple[float, float]) -> float:
        return min(marks[1] + self.debounce, marks[0] + self.max_wait)

    async def run(self) -> None:
        """Index documents as they fall due (the lifespan owns this task)."""
        while True:
            await wait_until(self._wake, self._deadlines.soonest())
            while (doc_id := self._deadlines.pop_due(time.monotonic())) is not None:
                marks = self._due.get(doc_id)
                if marks is None:
                    continue  # indexed meanwhile (its room unloaded)
                due = self._due_at(marks)
                if due > time.monotonic():  # marked again since: wait for the pause
                    self._deadlines.at(doc_id, due)
                    continue
                # indexing awaits: meanwhile a room may unload (indexed then) or be marked again
                del self._due[doc_id]
                await self.index(doc_id)

    async def flush(self) -> None:
        """Index everything marked, now (shutdown, tests)."""
        due, self._due = self._due, {}
        self._deadlines.clear()
        for doc_id in due:
            await self.index(doc_id)

    async def index(self, doc_id: str) -> None:
        """Index one document from its live room if it is open, else from storage."""
        try:
            room = self.rooms.open_room(doc_id)
            if room is not None:
                await self._index_room(room)
            else:
                indexed = await asyncio.to_thread(index_stored, self.engine, doc_id)
                if indexed is not None:
                    await self._tell(doc_id, indexed)
        except Exception:
            log.exception("doc %s: indexing for search failed (the next change retries)", doc_id)

    async def _index_room(self, room: Room) -> None:
        if room.failed or not room.ready.is_set():
            return
        state = room.doc.get_update()  # on the loop: the Doc is not thread-safe
        doc_id = room.doc_id

        await self._tell(doc_id, await asyncio.to_thread(write_index, self.engine, doc_id, state))

    async def _tell(self, doc_id: str, indexed: Indexed) -> None:
        for observer in self.indexed_observers:
            try:
                await observer(doc_id, indexed)
            except Exception:
                log.exception("doc %s: a search index observer failed", doc_id)
