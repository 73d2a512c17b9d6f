"""`GET /api/search` on a running server: who finds what, and how soon.

| caller                                  | finds                                           |
|-----------------------------------------|-------------------------------------------------|
| the owner                               | their documents: title, text and comment hits   |
| an invited account                      | the shared document; nothing once revoked       |
| a share link's token                    | that one document                               |
| another account                         | nothing of the owner's                          |
| nobody (no token)                       | 401                                             |

Freshness: text typed over a WebSocket is found once the edits pause (the debounce here is
0.2 s), deleted text no longer is, an import is found at once, a deleted document vanishes.
"""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import XmlElement, XmlFragment, XmlText

from server.config import Settings
from tests.support.accounts import make_account
from tests.support.servers import run_server
from tests.support.yclient import YClient


@pytest.fixture
async def server(sqlite_url):
    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2,
                                   search_debounce_seconds=0.2)) as live:
        yield live


async def hits(server, q: str, token: str | None = "") -> list[dict]:
    async with server.client(token) as http:
        response = await http.get("/api/search", params={"q": q})
        assert response.status_code == 200, response.text
        return response.json()["items"]


async def write(server, doc_id: str, text: str) -> None:
    room = await server.rooms.with_room(doc_id)
    fragment = room.doc.get("default", type=XmlFragment)
    with room.doc.transaction():
        fragment.children.append(XmlElement("paragraph")).children.append(XmlText(text))
    await room.drain()


async def test_who_finds_what(server):
    doc_id = await server.new_doc("Quarterly wombat census")
    other = await server.new_doc("Unrelated")
    await write(server, doc_id, "Wombats dig burrows near the ridge.")
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/comments",
                            json={"quote": "burrows", "body": "Measure the marsupial tunnels"})
        assert r.status_code == 201
        thread_id = r.json()["id"]
    await server.app.state.search.flush()

    found = await hits(server, "wombat")
    assert {(h["doc_id"], h["where"]) for h in found} == {(doc_id, "title"), (doc_id, "text")}
    (comment,) = await hits(server, "marsupial")
    assert (comment["doc_id"], comment["where"], comment["thread_id"]) == (
        doc_id, "comment", thread_id)
    start, end = comment["highlights"][0]
    assert comment["snippet"][start:end] == "marsupial"
    assert await hits(server, "unrelated") and other

    username, token = await asyncio.to_thread(make_account, server.engine, "reader")
    assert await hits(server, "wombat", token) == []  # not shared with them
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username,
                                                                 "role": "viewer"})
        share_id = r.json()["id"]
    assert {h["doc_id"] for h in await hits(server, "wombat", token)} == {doc_id}
    assert await hits(server, "unrelated", token) == []
    async with server.client() as http:
        assert (await http.delete(f"/api/docs/{doc_id}/shares/{share_id}")).status_code == 204
    assert await hits(server, "wombat", token) == []

    link = await server.link(doc_id, "viewer")
    assert {h["doc_id"] for h in await hits(server, "wombats ridge", link)} == {doc_id}
    assert await hits(server, "unrelated", link) == []

    async with server.client(None) as http:
        assert (await http.get("/api/search", params={"q": "wombat"})).status_code == 401


async def test_typed_text_is_found_after_the_pause_and_deleted_text_is_not(server):
    doc_id = await server.new_doc("Notes")
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    fragment = client.doc.get("default", type=XmlFragment)
    with client.doc.transaction():
        paragraph = fragment.children.append(XmlElement("paragraph"))
        text = paragraph.children.append(XmlText("The pangolin report is due"))
    found = []

    async def typed_is_found() -> bool:
        found[:] = await hits(server, "pangolin")
        return bool(found)

    for _ in range(60):
        if await typed_is_found():
            break
        await asyncio.sleep(0.1)
    assert [h["doc_id"] for h in found] == [doc_id]
    del text[4:13]  # "pangolin "
    for _ in range(60):
        if not await typed_is_found():
            break
        await asyncio.sleep(0.1)
    assert found == []
    assert [h["doc_id"] for h in await hits(server, "report")] == [doc_id]
    await client.close()


async def test_imports_are_found_at_once_and_deleted_documents_vanish(server):
    async with server.client() as http:
        r = await http.post("/api/docs/import", content="# Okapi field notes\n\nStriped legs.\n",
                            headers={"content-type": "text/markdown"})
        doc_id = r.json()["id"]
    await server.app.state.search.flush()
    assert {h["where"] for h in await hits(server, "okapi")} == {"title", "text"}
    async with server.client() as http:
        assert (await http.delete(f"/api/docs/{doc_id}")).status_code == 204
    assert await hits(server, "okapi") == []
    assert await hits(server, "striped") == []


async def test_the_index_survives_a_restart_and_reindex_rebuilds_it(sqlite_url, tmp_path):
    import subprocess
    import sys

    async with run_server(Settings(database_url=sqlite_url, unload_after=0.2)) as first:
        doc_id = await first.new_doc("Aardvark habits")
        await write(first, doc_id, "Termites at dusk")
    async with run_server(Settings(database_url=sqlite_url)) as second:
        assert [h["doc_id"] for h in await hits(second, "termites")] == [doc_id]
    from storage.db import make_engine
    from storage.search import remove

    engine = make_engine(sqlite_url)
    remove(engine, doc_id=doc_id)  # lost, as after a restore from an old backup
    done = subprocess.run([sys.executable, "-m", "server.cli", "search", "reindex",
                           "--database-url", sqlite_url], capture_output=True, text=True)
    assert done.returncode == 0 and "indexed" in done.stdout, done.stderr
    async with run_server(Settings(database_url=sqlite_url)) as third:
        assert [h["doc_id"] for h in await hits(third, "termites")] == [doc_id]
    engine.dispose()


async def test_bad_queries_answer_clearly(server):
    async with server.client() as http:
        assert (await http.get("/api/search")).status_code == 422  # no q
        assert (await http.get("/api/search", params={"q": "x" * 201})).status_code == 422
        r = await http.get("/api/search", params={"q": '"" *** ((('})
        assert r.status_code == 200 and r.json() == {"items": [], "total": 0, "query": ""}
        assert (await http.get("/api/search", params={"q": "a", "limit": 51})).status_code == 422


async def test_the_indexer_survives_rooms_unloading_while_it_works(sqlite_url):
    """A room that unloads while the indexer is busy with another document is indexed by the
    unload itself; the indexer carries on (it once stopped for good on a KeyError)."""
    async with run_server(Settings(database_url=sqlite_url, unload_after=30,
                                   search_debounce_seconds=0.2)) as server:
        task, third = await _race_an_unload_with_indexing(server)
        assert not task.done(), task.exception()  # the indexer still runs
        for _ in range(50):
            if await hits(server, "kestrels"):
                break
            await asyncio.sleep(0.1)
        # and what is typed afterwards is still found
        assert [h["doc_id"] for h in await hits(server, "kestrels")] == [third]


async def _race_an_unload_with_indexing(server) -> tuple[asyncio.Task, str]:
    """Two documents fall due one after the other; while the first is indexed the second's
    room unloads (indexed by the unload, and it leaves the queue). Returns the indexer's task
    and a third document, written after."""
    indexer = server.app.state.search
    rooms = server.app.state.rooms
    first, second, third = [await server.new_doc(t) for t in ("Ibis", "Jackal", "Third notes")]
    real = indexer.index
    raced = []

    async def busy(doc_id: str) -> None:
        room = rooms.open_room(second)
        if doc_id == first and room is not None and not raced:
            raced.append(doc_id)
            await indexer.on_unload(room)  # what the last person leaving does meanwhile
        await real(doc_id)

    task = next(t for t in asyncio.all_tasks() if t.get_name() == "quire-search")
    indexer.index = busy
    for doc_id, word in ((first, "ibises"), (second, "jackals")):
        await write(server, doc_id, f"Notes on {word}")
    for _ in range(50):
        if raced and second not in indexer._due:
            break
        await asyncio.sleep(0.05)
    assert raced == [first]
    await asyncio.sleep(0.4)  # the second's place in the queue comes (and is passed over)
    indexer.index = real
    assert {h["doc_id"] for h in await hits(server, "jackals")} == {second}
    await write(server, third, "Notes on kestrels")
    return task, third
