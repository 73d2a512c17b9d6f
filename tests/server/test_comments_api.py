"""REST comments: create / reply / resolve / edit / delete on the live room (seen at once by
open editors), persisted for documents nobody has open, who the author is (the caller, by id),
the ownership rules (403), limits, 404s, and bodies stored verbatim."""

from __future__ import annotations

from pycrdt import Map, XmlElement, XmlFragment, XmlText

from crdt.comments import MAX_BODY, mark_key
from crdt.markdown import document_text
from server.security import PERSONAL_PREFIX, new_token, token_hash
from storage import accounts
from tests.support.accounts import link_share, password_hash
from tests.support.yclient import YClient, eventually

BEA = {"name": "Bea", "color": "#2255aa"}


def link_id(server, token: str) -> str:
    """The person id of a share-link holder: "link:" + the share's id."""
    return "link:" + link_share(server.engine, token).id


def shown(person: dict | None) -> dict | None:
    """A person as shown to people: name and colour."""
    return person and {"name": person["name"], "color": person["color"]}


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


async def bot(server, doc_id: str, role: str = "commenter"):
    """An integration holding a share link: it may name itself (accounts cannot)."""
    return server.client(token=await server.link(doc_id, role))


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
        assert thread["author"] == thread["messages"][0]["author"]
        assert shown(thread["author"]) == BEA and thread["author"]["username"] is None
        assert thread["author"]["id"].startswith("link:")
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
        assert r.json()["messages"][1]["author"] == {**thread["author"], "name": "Quire API",
                                                     "color": "#6b7280"}
        await eventually(lambda: len(thread_of(editor, tid)["messages"]) == 2)

        r = await http.patch(f"{base}/{tid}", json={"resolved": True, "author": BEA})
        assert r.status_code == 200
        assert (r.json()["state"], shown(r.json()["resolved_by"])) == ("resolved", BEA)
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
            ("DELETE", "/api/docs/nope/comments/t", None),
            ("PATCH", "/api/docs/nope/comments/t/messages/m", {"body": "b"}),
            ("DELETE", "/api/docs/nope/comments/t/messages/m", None),
        ]:
            r = await http.request(method, path, json=body)
            assert (r.status_code, r.json()["detail"]) == (404, "Document not found"), path
        base = f"/api/docs/{doc_id}/comments"
        for method, path, body in [
            ("GET", f"{base}/missing", None),
            ("POST", f"{base}/missing/replies", {"body": "b"}),
            ("PATCH", f"{base}/missing", {"resolved": True}),
            ("DELETE", f"{base}/missing", None),
            ("PATCH", f"{base}/missing/messages/m", {"body": "b"}),
            ("DELETE", f"{base}/missing/messages/m", None),
        ]:
            r = await http.request(method, path, json=body)
            assert (r.status_code, r.json()["detail"]) == (404, "Comment thread not found"), path
        tid = (await http.post(base, json={"quote": "Some", "body": "b"})).json()["id"]
        for method, body in (("PATCH", {"body": "b"}), ("DELETE", None)):
            r = await http.request(method, f"{base}/{tid}/messages/missing", json=body)
            assert (r.status_code, r.json()["detail"]) == (404, "Message not found")


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


async def person(server, doc_id: str, username: str, display_name: str, role: str):
    """An account with this display name, invited to the document as `role`: (user, client)."""

    user = accounts.create_user(server.engine, username=username, display_name=display_name,
                                password_hash=password_hash())
    token = new_token(PERSONAL_PREFIX)
    accounts.add_api_token(server.engine, user_id=user.id, token_hash=token_hash(token),
                           name="tests")
    async with server.client() as owner:
        r = await owner.post(f"/api/docs/{doc_id}/shares",
                             json={"username": username, "role": role})
        assert r.status_code == 201, r.text
    return user, server.client(token=token)


async def test_the_author_is_the_caller_by_account_id(server):
    doc_id = await seeded(server, "Budget for next year.")
    base = f"/api/docs/{doc_id}/comments"
    alex, as_alex = await person(server, doc_id, "alexk", "Alex Kim", "commenter")
    twin, as_twin = await person(server, doc_id, "alexk2", "Alex Kim", "commenter")
    async with as_alex, as_twin:
        # an account always writes as itself: the name it gives is not used
        r = await as_alex.post(base, json={"quote": "Budget", "body": "Too high",
                                           "author": {"name": "The Owner", "color": "#112233"}})
        assert r.status_code == 201, r.text
        tid = r.json()["id"]
        me = {"id": alex.id, "name": "Alex Kim", "username": "alexk", "color": "#112233"}
        assert r.json()["author"] == r.json()["messages"][0]["author"] == me
        r = await as_twin.post(f"{base}/{tid}/replies", json={"body": "Agreed"})
        assert r.json()["messages"][1]["author"] == {
            "id": twin.id, "name": "Alex Kim", "username": "alexk2", "color": "#6b7280"}
        # another person's id or username: refused, nothing written
        for forged in ({"id": alex.id}, {"username": "alexk"}, {"id": "link:x"}):
            r = await as_twin.post(f"{base}/{tid}/replies", json={
                "body": "As Alex", "author": {"name": "Alex Kim", "color": "#112233", **forged}})
            assert (r.status_code, r.json()["detail"]) == (
                403, "You can only write comments as yourself"), forged
        assert len((await as_alex.get(f"{base}/{tid}")).json()["messages"]) == 2
    # a share link writes as "link:<share id>" and may name itself, but not take an id
    token = await server.link(doc_id, "commenter")
    async with server.client(token=token) as link:
        r = await link.post(f"{base}/{tid}/replies", json={"body": "From a link", "author": BEA})
        assert r.json()["messages"][2]["author"] == {
            "id": link_id(server, token), "username": None, **BEA}
        r = await link.post(f"{base}/{tid}/replies",
                            json={"body": "x", "author": {**BEA, "username": "alexk"}})
        assert r.status_code == 403


async def test_ownership_rules_over_rest(server):
    """crdt/COMMENTS.md "Ownership" for REST callers: each refusal is a 403 that changes
    nothing; what is allowed works."""
    doc_id = await seeded(server, "The plan is ready for review.")
    base = f"/api/docs/{doc_id}/comments"
    _, as_cam = await person(server, doc_id, "cam", "Cam", "commenter")
    _, as_cat = await person(server, doc_id, "cat", "Cam", "commenter")  # same name
    _, as_eve = await person(server, doc_id, "eve", "Eve", "editor")
    async with as_cam, as_cat, as_eve, server.client() as owner:
        tid = (await as_cam.post(base, json={"quote": "plan", "body": "Mine"})).json()["id"]
        thread = (await as_cat.post(f"{base}/{tid}/replies", json={"body": "Cat's"})).json()
        first, reply = (m["id"] for m in thread["messages"])

        async def refused(client, method: str, path: str, body: dict | None, detail: str):
            before = (await owner.get(base)).json()
            r = await client.request(method, f"{base}/{path}", json=body)
            assert (r.status_code, r.json()["detail"]) == (403, detail), (method, path)
            assert (await owner.get(base)).json() == before

        only_author = "Only its author can edit a comment"
        await refused(as_cat, "PATCH", f"{tid}/messages/{first}", {"body": "x"}, only_author)
        await refused(owner, "PATCH", f"{tid}/messages/{first}", {"body": "x"}, only_author)
        await refused(as_eve, "PATCH", f"{tid}/messages/{first}", {"body": "x"}, only_author)
        await refused(as_cat, "DELETE", f"{tid}/messages/{first}", None,
                      "Only its author or the document's owner can delete a comment")
        await refused(as_eve, "DELETE", f"{tid}/messages/{first}", None,
                      "Only its author or the document's owner can delete a comment")
        for resolved in (True, False):
            await refused(as_cat, "PATCH", tid, {"resolved": resolved},
                          "Only the thread's author, its assignee, an editor or the document's "
                          "owner can resolve or reopen it")
        await refused(as_cat, "DELETE", tid, None,
                      "Only its author or the document's owner can delete a thread")
        await refused(as_eve, "DELETE", tid, None,
                      "Only its author or the document's owner can delete a thread")

        r = await as_cam.patch(f"{base}/{tid}/messages/{first}", json={"body": "Mine, edited"})
        assert r.status_code == 200 and r.json()["messages"][0]["body"] == "Mine, edited"
        assert r.json()["messages"][0]["edited_at"] is not None
        r = await as_cat.delete(f"{base}/{tid}/messages/{reply}")
        assert r.status_code == 200
        assert (r.json()["messages"][1]["deleted"], r.json()["messages"][1]["body"]) == (True, "")
        assert len(r.json()["messages"]) == 2  # a tombstone keeps its place
        r = await as_eve.patch(f"{base}/{tid}", json={"resolved": True})  # an editor resolves
        assert r.json()["state"] == "resolved" and r.json()["resolved_by"]["username"] == "eve"
        r = await as_cam.patch(f"{base}/{tid}", json={"resolved": False})  # the author reopens
        assert r.json()["state"] == "open" and r.json()["resolved_by"] is None
        r = await owner.delete(f"{base}/{tid}/messages/{first}")  # the owner deletes any message
        assert r.json()["messages"][0]["deleted"] is True
        other = (await as_cat.post(base, json={"quote": "review", "body": "Cat's own"})).json()
        assert (await as_cat.delete(f"{base}/{other['id']}")).status_code == 204  # its author
        assert (await owner.delete(f"{base}/{tid}")).status_code == 204  # the owner
        assert (await owner.get(base)).json() == {"items": [], "total": 0}
        # the highlights went with the threads
        room = await server.rooms.with_room(doc_id)
        paragraph = room.doc.get("default", type=XmlFragment).children[0].children[0]
        assert paragraph.diff() == [("The plan is ready for review.", None)]


async def test_the_editor_page_tells_the_browser_who_it_is(server):
    """The page carries the viewer's own person id (what the browser writes on comments)."""
    import re

    doc_id = await seeded(server, "Text.")
    user = accounts.get_user_by_username(server.engine, username=server.username)

    def person(html: str) -> tuple[str, str, str] | None:
        meta = re.search(r'<meta name="quire-person" content="([^"]*)" data-name="([^"]*)" '
                         r'data-username="([^"]*)">', html)
        return meta.groups() if meta else None

    async with server.client() as http:  # a personal token: the account
        page = await http.get(f"/d/{doc_id}")
        assert person(page.text) == (user.id, user.display_name, user.username)
    token = await server.link(doc_id, "commenter")
    async with server.client(token=None) as http:  # a share link's first visit
        page = await http.get(f"/d/{doc_id}", params={"token": token})
        assert person(page.text) == (link_id(server, token), "", "")
        other = await server.new_doc()  # the link is not for this document
        page = await http.get(f"/d/{other}", params={"token": token})
        assert person(page.text) is None
