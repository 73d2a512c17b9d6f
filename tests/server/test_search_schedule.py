"""When the search indexer (server/search.py) indexes what was marked, with many documents.

| what happens                                             | what the indexer does                |
|----------------------------------------------------------|--------------------------------------|
| 3,000 documents are marked one after another             | sleeps on: one wake for the crowd,   |
|                                                          | not one per new mark (each wake once |
|                                                          | scanned every waiting document)      |
| they fall due                                            | each indexed once, in the order of   |
|                                                          | their marks                          |
| a document is typed in without a pause                   | indexed once `max_wait` has passed   |
| a document is marked again before its pause ends         | waits for the new pause              |
| a document's room unloads (indexed by the unload)        | its place in the queue is passed over|
"""

from __future__ import annotations

import asyncio
import time

from server import search as search_module
from server.search import SearchIndexer
from tests.support.schedules import count_wakes, until


def _indexer(monkeypatch, *, debounce: float, max_wait: float):
    indexer = SearchIndexer(engine=None, rooms=None, debounce=debounce,  # type: ignore[arg-type]
                            max_wait=max_wait)
    indexed: list[tuple[str, float]] = []

    async def index(doc_id: str) -> None:  # what would be read and written, recorded
        indexed.append((doc_id, time.monotonic()))

    indexer.index = index  # type: ignore[method-assign]
    wakes = count_wakes(monkeypatch, search_module)
    return indexer, indexed, wakes


async def test_a_crowd_of_new_marks_wakes_the_indexer_once_and_each_is_indexed_once(monkeypatch):
    indexer, indexed, wakes = _indexer(monkeypatch, debounce=0.3, max_wait=5.0)
    task = asyncio.create_task(indexer.run())
    try:
        await asyncio.sleep(0)
        docs = [f"doc-{n}" for n in range(3000)]
        for n, doc_id in enumerate(docs):
            indexer.mark(doc_id)
            if n % 50 == 0:
                await asyncio.sleep(0)  # the loop runs between frames, as it would
        marked = len(wakes)
        assert marked <= 2, f"{marked} wakes for 3,000 new marks"
        await until(lambda: len(indexed) == len(docs))
        assert [doc_id for doc_id, _ in indexed] == docs
        assert len(wakes) < 50  # a few passes, each taking whatever fell due
    finally:
        task.cancel()


async def test_continuous_typing_is_indexed_at_max_wait_and_a_new_mark_extends_the_pause(
        monkeypatch):
    indexer, indexed, _ = _indexer(monkeypatch, debounce=0.25, max_wait=0.8)
    task = asyncio.create_task(indexer.run())
    try:
        start = time.monotonic()
        indexer.mark("typed-on")
        indexer.mark("paused")
        await asyncio.sleep(0.15)
        indexer.mark("paused")  # marked again before its pause ended: due 0.25 s from now
        while time.monotonic() - start < 1.3:
            indexer.mark("typed-on")
            await asyncio.sleep(0.05)
        await until(lambda: len(indexed) >= 2)
        when = {doc_id: at - start for doc_id, at in indexed}
        assert 0.38 <= when["paused"] < 0.8, when
        assert 0.78 <= when["typed-on"] < 1.25, when
        assert [doc_id for doc_id, _ in indexed] == ["paused", "typed-on"]
    finally:
        task.cancel()


async def test_a_document_that_left_the_queue_is_passed_over(monkeypatch):
    indexer, indexed, _ = _indexer(monkeypatch, debounce=0.1, max_wait=1.0)
    task = asyncio.create_task(indexer.run())
    try:
        indexer.mark("unloaded")
        indexer.mark("stays")
        indexer._due.pop("unloaded")  # what `on_unload` does before indexing the room itself
        await until(lambda: len(indexed) >= 1)
        await asyncio.sleep(0.2)
        indexer.mark("unloaded")  # typed in again afterwards: indexed again, once
        await until(lambda: len(indexed) >= 2)
        await asyncio.sleep(0.2)
        assert [doc_id for doc_id, _ in indexed] == ["stays", "unloaded"]
    finally:
        task.cancel()
