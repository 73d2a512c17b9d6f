"""Mirror live document titles (Y.Doc meta) into the documents table, debounced."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.engine import Engine

from crdt.meta import observe_title
from crdt.room import Room
from storage.documents import rename_document

log = logging.getLogger("quire.titles")


class TitleMirror:
    def __init__(self, engine: Engine, *, delay: float = 0.3) -> None:
        self.engine = engine
        self.delay = delay
        self._dirty: dict[str, str] = {}
        self._wake = asyncio.Event()

    def watch(self, room: Room) -> None:
        def changed(title: str) -> None:
            self._dirty[room.doc_id] = title
            self._wake.set()

        room.keepalive.append(observe_title(room.doc, changed))

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            await asyncio.sleep(self.delay)  # a burst of title keystrokes becomes one write
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        dirty, self._dirty = self._dirty, {}
        for doc_id, title in dirty.items():
            try:
                await asyncio.to_thread(rename_document, self.engine, doc_id=doc_id, title=title)
            except Exception:
                log.exception("doc %s: could not mirror its title", doc_id)
