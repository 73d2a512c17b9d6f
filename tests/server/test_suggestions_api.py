"""Suggestions through a real server (issue 15): a commenter's suggestions over the WebSocket
are applied and listed, their forged or direct changes refused with the document unchanged, an
editor's suggestion under someone else's name corrected; editors accept and reject over REST;
export in the three forms and a CriticMarkup import round trip."""

from __future__ import annotations

import asyncio

from pycrdt import XmlFragment, XmlText

from crdt.suggestions import DELETE, INSERT
from tests.server.test_comments_api import person
from tests.support.yclient import YClient


def _text(client: YClient) -> XmlText:
    return client.doc.get("default", type=XmlFragment).children[0].children[0]


def mark(sid: str, author: str) -> dict:
    return {"id": sid, "author": author, "at": 1_790_000_000_000}


async def _doc(server, markdown: str = "The server is fast.\n") -> str:
    async with server.client() as http:
        r = await http.post("/api/docs/import", content=markdown,
                            headers={"content-type": "text/markdown"})
        return r.json()["id"]


async def _join(server, doc_id: str, token: str) -> YClient:
    client = YClient(server.ws(doc_id, token=token))
    await client.connect()
    await client.wait_synced()
    return client


async def _content(server, doc_id: str) -> dict:
    async with server.client() as http:
        return (await http.get(f"/api/docs/{doc_id}/content")).json()


async def test_a_commenters_suggestions_are_applied_and_direct_changes_refused(server):
    doc_id = await _doc(server)
    cam, as_cam = await person(server, doc_id, "cam", "Cam Commenter", "commenter")
    token = as_cam.headers["authorization"].split()[1]
    client = await _join(server, doc_id, token)
    # "fast" -> "quick": a replacement, then an insertion
    with client.doc.transaction():
        _text(client).format(14, 18, {DELETE: mark("r1", cam.id)})
        _text(client).insert(18, "quick", {INSERT: mark("r1", cam.id)})
    _text(client).insert(0, "Today ", {INSERT: mark("i1", cam.id)})
    async with server.client() as http:
        found = await eventually_json(http, f"/api/docs/{doc_id}/suggestions", 2)
    assert [(s["id"], s["kind"], s["author"], s["author_name"], s["inserted"], s["deleted"])
            for s in found] == [
        ("i1", "insert", cam.id, "Cam Commenter", "Today ", ""),
        ("r1", "replace", cam.id, "Cam Commenter", "quick", "fast")]
    stands = (await _content(server, doc_id))["text"]
    assert stands == "Today The server is fastquick."  # the live copy holds both
    before = await _content(server, doc_id)

    # direct changes, and suggestions under someone else's name: refused, nothing changes
    for change in (lambda t: t.insert(0, "X"), lambda t: t.__delitem__(slice(10, 13)),
                   lambda t: t.format(10, 13, {"bold": {}}),
                   lambda t: t.insert(0, "Y", {INSERT: mark("f1", "owner-account")})):
        spy = await _join(server, doc_id, token)
        change(_text(spy))
        await asyncio.sleep(0.3)
        await spy.close()
        assert await _content(server, doc_id) == before
    await client.close()
    await as_cam.aclose()


async def eventually_json(http, path: str, count: int, timeout: float = 5.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        body = (await http.get(path)).json()
        if len(body) >= count or asyncio.get_running_loop().time() > deadline:
            return body
        await asyncio.sleep(0.05)


async def test_editors_accept_and_reject_over_rest_and_commenters_cannot(server):
    doc_id = await _doc(server, "The server is {~~fast~>quick~~} and {++very ++}cheap "
                                "{--today--}.\n")
    cam, as_cam = await person(server, doc_id, "cam2", "Cam", "commenter")
    async with server.client() as http, as_cam:
        found = (await http.get(f"/api/docs/{doc_id}/suggestions")).json()
        assert [s["kind"] for s in found] == ["replace", "insert", "delete"]
        replace, insert, delete = (s["id"] for s in found)
        base = f"/api/docs/{doc_id}/suggestions"
        assert (await as_cam.post(f"{base}/{replace}/accept")).status_code == 403
        assert (await http.post(f"{base}/nope/accept")).status_code == 404
        assert (await http.post(f"{base}/../accept")).status_code in (404, 422)
        r = await http.post(f"{base}/{replace}/accept")
        assert r.status_code == 200 and r.json()["changed"] == 2
        assert (await http.post(f"{base}/{insert}/reject")).json()["changed"] == 1
        md = (await http.get(f"/api/docs/{doc_id}/export.md",
                             params={"suggestions": "critic"})).text
        assert md == "The server is quick and cheap {--today--}.\n"
        assert (await http.post(f"{base}/accept-all")).json()["changed"] == 1
        assert (await http.get(base)).json() == []
        assert (await _content(server, doc_id))["text"] == "The server is quick and cheap ."


async def test_export_in_three_forms_and_critic_markup_round_trips(server):
    source = "Edge {++nodes ++}run {--fast--} and {~~slow~>quick~~}.\n"
    doc_id = await _doc(server, source)
    async with server.client() as http:
        get = lambda mode: http.get(f"/api/docs/{doc_id}/export.md",  # noqa: E731
                                    params={"suggestions": mode} if mode else None)
        assert (await get(None)).text == "Edge run fast and slow.\n"  # the text as it stands
        assert (await get("reject")).text == "Edge run fast and slow.\n"
        assert (await get("accept")).text == "Edge nodes run  and quick.\n"
        critic = (await get("critic")).text
        assert critic == source
        assert (await get("bogus")).status_code == 422
        r = await http.post("/api/docs/import", content=critic,
                            headers={"content-type": "text/markdown"})
        again = r.json()["id"]
        assert (await http.get(f"/api/docs/{again}/export.md",
                               params={"suggestions": "critic"})).text == source


async def test_an_editors_suggestion_under_another_name_is_corrected(server):
    doc_id = await _doc(server)
    eve, as_eve = await person(server, doc_id, "eve", "Eve Editor", "editor")
    token = as_eve.headers["authorization"].split()[1]
    client = await _join(server, doc_id, token)
    _text(client).insert(0, "Now ", {INSERT: mark("e1", "someone-else")})
    async with server.client() as http:
        for _ in range(100):
            found = (await http.get(f"/api/docs/{doc_id}/suggestions")).json()
            if found and found[0]["author"] == eve.id:
                break
            await asyncio.sleep(0.05)
    assert found[0]["author"] == eve.id and found[0]["author_name"] == "Eve Editor"
    # and the editor's own copy hears the correction
    await client.wait_until(lambda: _text(client).diff()[0][1][INSERT]["author"] == eve.id)
    await client.close()
    await as_eve.aclose()
