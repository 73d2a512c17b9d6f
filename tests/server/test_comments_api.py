"""REST comments: create / reply / resolve on the live room (seen at once by open editors),
persisted for documents nobody has open, limits, 404s, and bodies stored verbatim."""

from __future__ import annotations

from pycrdt import Map, XmlElement, XmlFragment, XmlText

from crdt.comments import MAX_BODY, mark_key
from crdt.markdown import document_text
from tests.support.yclient import YClient, eventually

BEA = {"name": "Bea", "color": "#2255aa"}


def write_paragraphs(doc, *paragraphs: str) -> None:
    fragment = doc.get("default", type=XmlFragment)
    with doc.transaction():
        for text in paragraphs:
            element = fragment.children.append(XmlElement("paragraph"))
            element.children.append(XmlText()).insert(0, text)


async def seeded(server, *paragraphs: str) -> str:
    """A new document with these paragraphs, written on the server's copy."""
    doc_id = await server.new_doc()
    room = await server.rooms.with_room(doc_id)
    write_paragraphs(room.doc, *paragraphs)
    await room.drain()
    return doc_id


async def bot(server, doc_id: str):
    """An integration holding a share link: it may name itself (accounts cannot)."""
    return server.client(token=await server.link(doc_id, "commenter"))


def thread_of(client: YClient, thread_id: str):
    thread = client.doc.get("comments", type=Map).get(thread_id)
    return thread if isinstance(thread, Map) else None


async def test_thread_lifecycle_is_live_in_an_open_editor(server):
    doc_id = await server.new_doc()
    editor = YClient(server.ws(doc_id))
    await editor.connect()
    await editor.wait_synced()
    write_paragraphs(editor.doc, "The proposal is due on Friday.", "Budget follows.")
    await eventually(lambda: server.rooms.open_room(doc_id) is not None and "Budget" in
                     document_text(server.rooms.open_room(doc_id).doc))
    base = f"/api/docs/{doc_id}/comments"
    async with await bot(server, doc_id) as http:
        r = await http.post(base, json={"quote": "due on Friday", "body": "Monday?",
                                        "author": BEA})
        assert r.status_code == 201, r.text
        thread = r.json()
        tid = thread["id"]
        assert (thread["state"], thread["anchor_text"], thread["quote"]) == (
            "open", "due on Friday", "due on Friday")
        assert thread["anchor"] == {"start": 16, "end": 29}
        assert thread["author"] == BEA and thread["messages"][0]["author"] == BEA
        assert thread["messages"][0]["body"] == "Monday?"
        assert thread["created_at"].endswith("Z") and thread["resolved_at"] is None

        # The open editor has the thread data and the mark, under the key y-tiptap uses.
        await eventually(lambda: thread_of(editor, tid) is not None)
        paragraph = editor.doc.get("default", type=XmlFragment).children[0].children[0]
        assert ("due on Friday", {mark_key(tid): {"threadId": tid}}) in paragraph.diff()
        assert thread_of(editor, tid)["messages"][0]["body"] == "Monday?"

        r = await http.post(f"{base}/{tid}/replies", json={"body": "Friday is fine."})
        assert r.status_code == 201
        assert [m["body"] for m in r.json()["messages"]] == ["Monday?", "Friday is fine."]
        assert r.json()["messages"][1]["author"] == {"name": "Quire API", "color": "#6b7280"}
        await eventually(lambda: len(thread_of(editor, tid)["messages"]) == 2)

        r = await http.patch(f"{base}/{tid}", json={"resolved": True, "author": BEA})
        assert r.status_code == 200
        assert (r.json()["state"], r.json()["resolved_by"]) == ("resolved", BEA)
        assert r.json()["resolved_at"] is not None
        await eventually(lambda: thread_of(editor, tid)["resolved"] is True)
        listed = (await http.get(base)).json()
        assert listed["total"] == 1 and listed["items"][0]["state"] == "resolved"
        assert (await http.get(base, params={"state": "open"})).json()["items"] == []

        r = await http.patch(f"{base}/{tid}", json={"resolved": False})
        assert r.json()["state"] == "open" and r.json()["resolved_by"] is None
        await eventually(lambda: thread_of(editor, tid)["resolved"] is False)

        # The editor deletes the passage: the thread is detached but still readable.
        with editor.doc.transaction():
            del paragraph[len("The proposal is "):len("The proposal is due on Friday")]
        await eventually(lambda: "Friday" not in document_text(
            server.rooms.open_room(doc_id).doc))
        detached = (await http.get(f"{base}/{tid}")).json()
        assert (detached["state"], detached["anchor"], detached["quote"]) == (
            "detached", None, "due on Friday")
        assert len(detached["messages"]) == 2
    await editor.close()


async def test_comments_persist_for_a_document_nobody_has_open(server):
    doc_id = await seeded(server, "First paragraph.", "Second paragraph here.")
    await eventually(lambda: server.rooms.open_room(doc_id) is None)  # unloaded
    base = f"/api/docs/{doc_id}/comments"
    async with await bot(server, doc_id) as http:
        r = await http.post(base, json={"start": 6, "end": 23, "body": "Across two blocks"})
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        assert r.json()["anchor_text"] == "paragraph.\nSecond"
        await eventually(lambda: server.rooms.open_room(doc_id) is None, timeout=10)
        again = (await http.get(base)).json()  # loaded back from the store
        assert [t["id"] for t in again["items"]] == [tid]
        assert again["items"][0]["anchor_text"] == "paragraph.\nSecond"

    late = YClient(server.ws(doc_id))  # an editor opening the document later gets it all
    await late.connect()
    await late.wait_synced()
    assert thread_of(late, tid)["messages"][0]["body"] == "Across two blocks"
    await late.close()


async def test_limits_and_validation(server):
    doc_id = await seeded(server, "one two one", "three")
    base = f"/api/docs/{doc_id}/comments"
    async with await bot(server, doc_id) as http:
        too_long = await http.post(base, json={"quote": "one", "body": "x" * (MAX_BODY + 1)})
        assert too_long.status_code == 413
        assert too_long.json()["detail"] == (
            "The comment is 10001 characters long; the limit is 10000")
        exact = await http.post(base, json={"quote": "one", "body": "x" * MAX_BODY})
        assert exact.status_code == 201
        tid = exact.json()["id"]
        reply = await http.post(f"{base}/{tid}/replies", json={"body": "y" * (MAX_BODY + 1)})
        assert reply.status_code == 413

        second = await http.post(base, json={"quote": "one", "occurrence": 2, "body": "2nd"})
        assert second.json()["anchor"] == {"start": 8, "end": 11}

        cases = [
            ({"quote": "four", "body": "b"}, "The quote does not occur in the document"),
            ({"quote": "one", "occurrence": 3, "body": "b"}, "The quote occurs 2 times, not 3"),
            ({"quote": "one", "body": "   "}, "The comment is empty"),
            ({"start": 11, "end": 12, "body": "b"}, "The range holds no text to comment on"),
            ({"start": 0, "end": 99, "body": "b"}, "The range must satisfy"),
        ]
        for payload, detail in cases:
            r = await http.post(base, json=payload)
            assert r.status_code == 422, payload
            assert r.json()["detail"].startswith(detail), r.json()
        for payload in ({"body": "no passage"}, {"quote": "one", "start": 0, "end": 3, "body": "b"},
                        {"start": 0, "body": "b"}, {"quote": "one"},
                        {"quote": "one", "body": "b", "author": {"name": "A", "color": "red"}},
                        {"quote": "one", "body": "b", "occurrence": 0}):
            assert (await http.post(base, json=payload)).status_code == 422, payload
        assert (await http.get(base, params={"state": "bogus"})).status_code == 422
        assert (await http.patch(f"{base}/{tid}", json={})).status_code == 422
        assert (await http.get(base)).json()["total"] == 2  # refused requests changed nothing


async def test_unknown_document_or_thread_is_404(server):
    doc_id = await seeded(server, "Some text.")
    async with await bot(server, doc_id) as http:
        for method, path, body in [
            ("GET", "/api/docs/nope/comments", None),
            ("POST", "/api/docs/nope/comments", {"quote": "Some", "body": "b"}),
            ("POST", "/api/docs/nope/comments/t/replies", {"body": "b"}),
            ("PATCH", "/api/docs/nope/comments/t", {"resolved": True}),
        ]:
            r = await http.request(method, path, json=body)
            assert (r.status_code, r.json()["detail"]) == (404, "Document not found"), path
        base = f"/api/docs/{doc_id}/comments"
        for method, path, body in [
            ("GET", f"{base}/missing", None),
            ("POST", f"{base}/missing/replies", {"body": "b"}),
            ("PATCH", f"{base}/missing", {"resolved": True}),
        ]:
            r = await http.request(method, path, json=body)
            assert (r.status_code, r.json()["detail"]) == (404, "Comment thread not found"), path


async def test_html_looking_bodies_are_stored_verbatim(server):
    doc_id = await seeded(server, "Click here to win.")
    editor = YClient(server.ws(doc_id))
    await editor.connect()
    await editor.wait_synced()
    body = ("<script>alert('x')</script><img src=x onerror=\"alert(1)\"> &amp; &lt;b&gt; "
            "[link](javascript:alert(1)) \u202e\n  indented")
    author = {"name": "<b>Mallory</b>", "color": "#000000"}
    async with await bot(server, doc_id) as http:
        r = await http.post(f"/api/docs/{doc_id}/comments",
                            json={"quote": "Click here", "body": body, "author": author})
        assert r.status_code == 201
        tid = r.json()["id"]
        assert r.json()["messages"][0]["body"] == body
        assert r.json()["author"]["name"] == "<b>Mallory</b>"
        reply = await http.post(f"/api/docs/{doc_id}/comments/{tid}/replies",
                                json={"body": "<iframe src=//evil>"})
        assert reply.json()["messages"][1]["body"] == "<iframe src=//evil>"
        listed = (await http.get(f"/api/docs/{doc_id}/comments")).json()
        assert listed["items"][0]["messages"][0]["body"] == body
    await eventually(lambda: thread_of(editor, tid) is not None
                     and len(thread_of(editor, tid)["messages"]) == 2)
    assert thread_of(editor, tid)["messages"][0]["body"] == body
    assert thread_of(editor, tid)["author"]["name"] == "<b>Mallory</b>"
    await editor.close()
