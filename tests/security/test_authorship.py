"""Who wrote what (issue 15), against a real `quire serve` with the /healthz probe.

Attribution is the server's record of which account sent each Yjs client id (crdt/authors.py).

| what is tried (with pycrdt)                                       | answer                         |
|-------------------------------------------------------------------|--------------------------------|
| two people type; the server restarts                              | each passage keeps its author  |
| an editor writes or deletes in the "authors" map itself            | refused; nothing changes       |
| an editor types under the owner's Yjs client id                    | refused; nothing changes       |
| a commenter or viewer writes the map                               | refused                        |
| one update with 2,000 new client ids                               | applied; each recorded once,   |
|                                                                    | the server stays responsive    |
| GET /authors without access, or of a document that does not exist | 403 / 404                      |

"Refused" keeps the connection open: the sender is told (permission denied) and may go on.
"""

from __future__ import annotations

import asyncio

from pycrdt import Doc, Map, XmlFragment, XmlText

from crdt.authors import AUTHORS


def _text(client) -> XmlText:
    """The text of the seed document's first paragraph (after the heading)."""
    return client.doc.get("default", type=XmlFragment).children[1].children[0]


async def _authors(quire, doc: str, role: str = "owner") -> dict:
    async with quire.client(role) as client:
        response = await client.get(f"/api/docs/{doc}/authors")
        assert response.status_code == 200, response.text
        return response.json()


def _by_author(found: dict) -> dict[str | None, str]:
    """Each author's text (runs joined), by account id."""
    texts: dict[str | None, str] = {}
    for run in found["runs"]:
        texts[run["author"]] = texts.get(run["author"], "") + run["text"]
    return texts


async def _settle() -> None:
    await asyncio.sleep(0.4)


async def test_each_passage_keeps_its_author_across_a_restart(quire):
    doc = await quire.new_doc()
    owner_id, editor_id = quire.cast["owner"].user_id, quire.cast["editor"].user_id
    owner = await quire.joined(doc, "owner")
    editor = await quire.joined(doc, "editor")
    _text(owner).insert(0, "Owner wrote this. ")
    await editor.wait_until(lambda: str(_text(editor)).startswith("Owner wrote"))
    _text(editor).insert(len(b"Owner wrote this. "), "Édith's part 🙂 ")
    await owner.wait_until(lambda: "🙂" in str(_text(owner)))
    await _settle()
    await owner.close()
    await editor.close()

    def check(found: dict) -> None:
        texts = _by_author(found)
        assert texts[editor_id] == "Édith's part 🙂 "
        # the owner typed a sentence and imported the rest
        assert "Owner wrote this. " in texts[owner_id]
        assert "The first paragraph of the plan." in texts[owner_id]
        assert "Édith" not in texts[owner_id]
        assert [a["id"] for a in found["authors"]] == [owner_id, editor_id]
        assert found["authors"][1]["characters"] == len("Édith's part 🙂 ")
        assert found["authors"][1]["username"] == quire.cast["editor"].username
        async_text = "".join(run["text"] for run in found["runs"])
        assert async_text.startswith("Plan\nOwner wrote this. Édith's part 🙂 The first")

    before = await _authors(quire, doc)
    check(before)
    quire.stop()
    await asyncio.to_thread(quire.process.start)
    after = await _authors(quire, doc, "viewer")  # readers may ask too
    check(after)
    assert after["runs"] == before["runs"]


async def test_nobody_writes_the_record_or_types_in_another_persons_name(quire):
    doc = await quire.new_doc()
    owner = await quire.joined(doc, "owner")
    _text(owner).insert(0, "Mine. ")
    await _settle()
    owner_client = owner.doc.client_id
    before = await quire.owner_view(doc)
    record_before = await _authors(quire, doc)

    async def attempt(role: str, act, doc_for=None) -> None:
        client = await quire.joined(doc, role, doc=doc_for)
        act(client)
        await _settle()
        await client.close()
        assert await quire.owner_view(doc) == before, role
        assert await _authors(quire, doc) == record_before, role

    editor_id = quire.cast["editor"].user_id
    async with quire.probe():
        for role in ("editor", "commenter", "viewer"):
            # claim the owner's client id for oneself, add a client id of one's own, remove one
            await attempt(role, lambda c: c.doc.get(AUTHORS, type=Map).__setitem__(
                str(owner_client), {"id": editor_id, "name": "Me"}))
            await attempt(role, lambda c: c.doc.get(AUTHORS, type=Map).__setitem__(
                "12345", {"id": editor_id, "name": "Me"}))
            await attempt(role, lambda c: c.doc.get(AUTHORS, type=Map).__delitem__(
                str(owner_client)))
        # type under the owner's Yjs client id: the text would read as the owner's
        await attempt("editor", lambda c: _text(c).insert(0, "Forged. "),
                      doc_for=Doc(client_id=owner_client))
    # the owner, under their own id, still types
    _text(owner).insert(0, "Still mine. ")
    await _settle()
    texts = _by_author(await _authors(quire, doc))
    assert "Still mine. Mine. The first paragraph" in texts[quire.cast["owner"].user_id]
    await owner.close()


async def test_an_update_with_thousands_of_client_ids_is_recorded_and_bounded(quire):
    doc = await quire.new_doc()
    editor_id = quire.cast["editor"].user_id
    # 2,000 one-letter edits, each under its own client id, merged into one update
    from pycrdt import merge_updates

    base = await quire.joined(doc, "viewer")
    state = base.doc.get_update()
    await base.close()
    updates = []
    for n in range(2000):
        scratch = Doc(client_id=10_000 + n)
        scratch.apply_update(state)
        before = scratch.get_state()
        _text_of(scratch).insert(0, "x")
        updates.append(scratch.get_update(before))
    forged = merge_updates(*updates)
    async with quire.probe():
        client = await quire.joined(doc, "editor")
        client.doc.apply_update(forged)  # sent as one update
        await _settle()
        await client.close()
    found = await _authors(quire, doc)
    assert _by_author(found)[editor_id] == "x" * 2000
    assert [a["id"] for a in found["authors"]][:1] == [editor_id]


def _text_of(doc: Doc) -> XmlText:
    return doc.get("default", type=XmlFragment).children[1].children[0]


async def test_who_may_ask(quire):
    doc = await quire.new_doc()
    async with quire.client(None) as anonymous:
        assert (await anonymous.get(f"/api/docs/{doc}/authors")).status_code in (401, 403)
    async with quire.client("owner") as owner:
        assert (await owner.get("/api/docs/no-such-doc/authors")).status_code == 404
