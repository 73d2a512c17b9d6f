"""Suggestions (issue 15) under attack, against a real `quire serve` with the /healthz probe.

| attack (by a commenter, with pycrdt)                          | answer                           |
|---------------------------------------------------------------|----------------------------------|
| plain text, a deletion, bold, a new paragraph                  | refused; the document unchanged  |
| a suggestion in the owner's name, or with no author            | refused                          |
| accepting or rejecting an editor's suggestion by editing marks | refused                          |
| POST accept/reject as a commenter or viewer; bad ids           | 403 / 404 / 422                  |
| 300 suggestion keystrokes as fast as the socket takes them     | applied, /healthz under 1 s      |

"Refused" keeps the connection open: the sender is told (permission denied) and may go on.
"""

from __future__ import annotations

import asyncio

from pycrdt import XmlElement, XmlFragment, XmlText

from crdt.suggestions import DELETE, INSERT


def _text(client) -> XmlText:
    return client.doc.get("default", type=XmlFragment).children[1].children[0]


def _mark(sid: str, author: str | None) -> dict:
    return {"id": sid, "author": author, "at": 1_790_000_000_000}


async def _settle() -> None:
    await asyncio.sleep(0.4)


async def test_a_commenters_direct_changes_and_forged_suggestions_are_refused(quire):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    me = quire.cast["commenter"].user_id
    owner = quire.cast["owner"].user_id
    attacks = (
        lambda t, d: t.insert(0, "Injected "),
        lambda t, d: t.__delitem__(slice(0, 6)),
        lambda t, d: t.format(0, 6, {"bold": {}}),
        lambda t, d: t.insert(0, "Owner said ", {INSERT: _mark("f1", owner)}),
        lambda t, d: t.insert(0, "Nobody ", {INSERT: _mark("f2", None)}),
        lambda t, d: t.format(0, 6, {INSERT: _mark("f3", me)}),  # existing text as "suggested"
        lambda t, d: d.get("default", type=XmlFragment).children.append(
            XmlElement("paragraph", {}, [XmlText("new block")])),
    )
    async with quire.probe():
        for attack in attacks:
            client = await quire.joined(doc, "commenter")
            attack(_text(client), client.doc)
            await _settle()
            await client.close()
            assert await quire.owner_view(doc) == before


async def test_a_commenter_cannot_decide_an_editors_suggestion_through_the_text(quire):
    doc = await quire.new_doc()
    editor_id = quire.cast["editor"].user_id
    editor = await quire.joined(doc, "editor")
    _text(editor).insert(0, "Fast ", {INSERT: _mark("e1", editor_id)})
    _text(editor).format(12, 15, {DELETE: _mark("e2", editor_id)})
    await _settle()
    await editor.close()
    before = await quire.owner_view(doc)
    async with quire.probe():
        for attack in (lambda t: t.format(0, 5, {INSERT: None}),  # accept
                       lambda t: t.__delitem__(slice(0, 5)),  # reject
                       lambda t: t.format(12, 15, {DELETE: None})):  # reject the deletion
            client = await quire.joined(doc, "commenter")
            attack(_text(client))
            await _settle()
            await client.close()
            assert await quire.owner_view(doc) == before
    async with quire.client("owner") as owner:
        found = (await owner.get(f"/api/docs/{doc}/suggestions")).json()
    assert [s["id"] for s in found] == ["e1", "e2"]


async def test_only_editors_decide_over_rest_and_bad_ids_are_refused(quire):
    doc = await quire.new_doc()
    editor = await quire.joined(doc, "editor")
    _text(editor).insert(0, "Fast ", {INSERT: _mark("e1", quire.cast["editor"].user_id)})
    await _settle()
    await editor.close()
    base = f"/api/docs/{doc}/suggestions"
    async with quire.probe():
        for role in ("commenter", "viewer"):
            async with quire.client(role) as client:
                assert (await client.get(base)).status_code == 200
                for path in ("e1/accept", "e1/reject", "accept-all", "reject-all"):
                    assert (await client.post(f"{base}/{path}")).status_code == 403, (role, path)
        async with quire.client("editor") as client:
            assert (await client.post(f"{base}/{'x' * 65}/accept")).status_code == 422
            assert (await client.post(f"{base}/no-such/accept")).status_code == 404
            assert (await client.post(f"{base}/%00/accept")).status_code in (404, 422)
            assert (await client.post(f"{base}/accept-all",
                                      params={"author": "a" * 500})).status_code == 422
    async with quire.client("owner") as owner:
        assert [s["id"] for s in (await owner.get(base)).json()] == ["e1"]


async def test_a_flood_of_suggestion_keystrokes_keeps_the_server_responsive(quire):
    doc = await quire.new_doc()
    me = quire.cast["commenter"].user_id
    client = await quire.joined(doc, "commenter")
    async with quire.probe():
        for i in range(300):
            _text(client).insert(i, "x", {INSERT: _mark("flood", me)})
            if i % 50 == 0:
                await asyncio.sleep(0)
        await asyncio.sleep(1.0)
    async with quire.client("owner") as owner:
        for _ in range(50):
            found = (await owner.get(f"/api/docs/{doc}/suggestions")).json()
            if found and len(found[0]["inserted"]) == 300:
                break
            await asyncio.sleep(0.1)
    assert [(s["id"], s["inserted"]) for s in found] == [("flood", "x" * 300)]
    await client.close()
