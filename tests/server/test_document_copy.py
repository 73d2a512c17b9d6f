"""Make a copy (issue 18, item 12): POST /api/docs/{id}/copy.

| who / what | answer |
|---|---|
| anyone signed in who can read it (viewer … owner) | 201: a document they own, "Copy of <title>", the text and formatting as they stand (live), its images, no comments |
| `{"comments": true}` | the threads and their highlights are kept |
| `{"title": ...}` | that title (1–500 characters, else 422) |
| the document is not open | the stored state |
| an account that cannot read it, an unknown id | 404, nothing created |
| a share link without an account, nobody | 401, nothing created |
"""

from __future__ import annotations

import asyncio

from pycrdt import XmlElement, XmlFragment, XmlText

from storage.models import Document, DocumentImage
from tests.server.test_images import png, upload
from tests.support.accounts import make_account
from tests.support.yclient import eventually

TEXT = "Quarterly plan: hire two people."


async def written(server, title: str = "Plan") -> tuple[str, str]:
    """A document with bold text, a comment and a stored image; (doc id, image url)."""
    doc_id = await server.new_doc(title)
    async with server.client() as http:
        image = (await upload(http, doc_id, png())).json()["url"]
    room = await server.rooms.with_room(doc_id)
    fragment = room.doc.get("default", type=XmlFragment)
    with room.doc.transaction():
        text = fragment.children.append(XmlElement("paragraph")).children.append(XmlText())
        text.insert(0, "Quarterly plan:", {"bold": {}})
        text.insert(len("Quarterly plan:"), " hire two people.")
        fragment.children.append(XmlElement("paragraph")).children.append(
            XmlElement("image", {"src": image, "alt": "chart"}))
    await room.drain()
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/comments",
                            json={"quote": "two people", "body": "Only budget for one"})
        assert r.status_code == 201, r.text
    return doc_id, image


async def invited(server, doc_id: str, name: str, role: str) -> str:
    username, token = await asyncio.to_thread(make_account, server.engine, name)
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username, "role": role})
        assert r.status_code == 201, r.text
    return token


def document_count(server) -> int:
    from sqlmodel import Session, func, select

    with Session(server.engine) as session:
        return session.exec(select(func.count()).select_from(Document)).one()


async def test_a_viewer_copies_a_document_they_own_without_comments(server):
    doc_id, image = await written(server)
    token = await invited(server, doc_id, "vera", "viewer")
    async with server.client(token) as http:
        r = await http.post(f"/api/docs/{doc_id}/copy")
        assert r.status_code == 201, r.text
        copy = r.json()
        assert copy["title"] == "Copy of Plan"
        assert (copy["role"], copy["owner_name"], copy["can_share"]) == ("owner", "Vera", True)
        assert copy["id"] != doc_id
        content = (await http.get(f"/api/docs/{copy['id']}/content")).json()
        assert content["text"] == TEXT + "\n"
        first = content["json"]["content"][0]["content"]
        assert first == [{"type": "text", "text": "Quarterly plan:", "marks": [{"type": "bold"}]},
                         {"type": "text", "text": " hire two people."}]
        assert (await http.get(f"/api/docs/{copy['id']}/comments")).json()["items"] == []
        # the picture shows in the copy under the copy's own address
        src = content["json"]["content"][1]["content"][0]["attrs"]["src"]
        assert src == image.replace(doc_id, copy["id"])
        served = await http.get(src)
        assert served.status_code == 200 and served.headers["content-type"] == "image/png"
        # the copy is theirs: listed as theirs, and they may rename and delete it
        mine = (await http.get("/api/docs", params={"whose": "mine"})).json()["items"]
        assert [d["id"] for d in mine] == [copy["id"]]
        assert (await http.patch(f"/api/docs/{copy['id']}", json={"title": "Vera's plan"})).status_code == 200
    # the source is as it was, comment included, and the copy is nobody else's
    async with server.client() as http:
        source = (await http.get(f"/api/docs/{doc_id}/content")).json()
        assert image_sources_of(source) == [image]
        assert len((await http.get(f"/api/docs/{doc_id}/comments")).json()["items"]) == 1
        assert (await http.get(f"/api/docs/{copy['id']}")).status_code == 404


def image_sources_of(content: dict) -> list[str]:
    found, stack = [], [content["json"]]
    while stack:
        node = stack.pop()
        if node.get("type") == "image":
            found.append(node["attrs"]["src"])
        stack.extend(reversed(node.get("content", [])))
    return found


async def test_with_comments_and_a_title_of_ones_own(server):
    doc_id, _ = await written(server)
    token = await invited(server, doc_id, "cora", "commenter")
    async with server.client(token) as http:
        r = await http.post(f"/api/docs/{doc_id}/copy",
                            json={"title": "Plan with notes", "comments": True})
        assert r.status_code == 201, r.text
        copy_id = r.json()["id"]
        assert r.json()["title"] == "Plan with notes"
        (thread,) = (await http.get(f"/api/docs/{copy_id}/comments")).json()["items"]
        assert (thread["anchor_text"], thread["messages"][0]["body"]) == (
            "two people", "Only budget for one")
        # the live title follows the record
        assert (await http.get(f"/api/docs/{copy_id}")).json()["title"] == "Plan with notes"


async def test_the_copy_has_the_live_text_and_every_image_row_of_the_source(server):
    """An editor's keystroke that just arrived is in the copy; every image the source may show
    (in its text or not) may be shown by the copy."""
    from tests.support.yclient import joined

    doc_id, _ = await written(server)
    async with server.client() as http:
        second = (await upload(http, doc_id, png(color=(0, 200, 0)))).json()["sha256"]
    client = await joined(server, doc_id)
    try:
        fragment = client.doc.get("default", type=XmlFragment)
        with client.doc.transaction():
            fragment.children.append(XmlElement("paragraph")).children.append(
                XmlText("Typed a moment ago."))
        room = server.rooms.open_room(doc_id)
        await eventually(lambda: "Typed a moment ago." in str(room.doc.get("default", type=XmlFragment)))
        async with server.client() as http:
            copy_id = (await http.post(f"/api/docs/{doc_id}/copy")).json()["id"]
            text = (await http.get(f"/api/docs/{copy_id}/content")).json()["text"]
            assert text.endswith("Typed a moment ago.")
            assert (await http.get(f"/api/docs/{copy_id}/images/{second}")).status_code == 200
    finally:
        await client.close()
    from sqlmodel import Session, select

    with Session(server.engine) as session:
        def shas(d):
            return sorted(session.exec(select(DocumentImage.sha256).where(DocumentImage.doc_id == d)).all())
        assert shas(copy_id) == shas(doc_id) and len(shas(doc_id)) == 2


async def test_a_document_that_is_not_open_is_copied_from_storage(server):
    doc_id, _ = await written(server)
    await server.rooms.unload(server.rooms.open_room(doc_id))
    assert server.rooms.open_room(doc_id) is None
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/copy", json={})
        assert r.status_code == 201, r.text
        assert (await http.get(f"/api/docs/{r.json()['id']}/content")).json()["text"] == TEXT + "\n"
        assert (await http.get(f"/api/docs/{r.json()['id']}/comments")).json()["items"] == []


async def test_refused_copies_create_nothing(server):
    doc_id, _ = await written(server)
    _, stranger = await asyncio.to_thread(make_account, server.engine, "stranger")
    link = await server.link(doc_id, "editor")
    before = document_count(server)
    cases = [
        (stranger, doc_id, None, 404),  # cannot read it: as if it did not exist
        (stranger, "no-such-document", None, 404),
        (server.token, "no-such-document", None, 404),
        (None, doc_id, None, 401),  # nobody
        (link, doc_id, None, 401),  # a link without an account: no one to own the copy
        (server.token, doc_id, {"title": "x" * 501}, 422),
        (server.token, doc_id, {"title": ""}, 422),
        (server.token, doc_id, {"comments": ["no"]}, 422),
        (server.token, doc_id, {"title": {"$ne": 1}}, 422),
    ]
    for token, target, body, expected in cases:
        async with server.client(token) as http:
            r = await http.post(f"/api/docs/{target}/copy", json=body)
            assert r.status_code == expected, (token, target, body, r.text)
    assert document_count(server) == before


async def test_a_long_title_is_cut_to_the_limit(server):
    doc_id = await server.new_doc("t" * 500)
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/copy")
        assert r.status_code == 201, r.text
        assert r.json()["title"] == ("Copy of " + "t" * 500)[:500]
        r = await http.post(f"/api/docs/{doc_id}/copy", json={"title": "y" * 500})
        assert r.status_code == 201 and r.json()["title"] == "y" * 500
