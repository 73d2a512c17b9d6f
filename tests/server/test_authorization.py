"""The authorization matrix: every REST route and the WebSocket, for every kind of caller.

Callers: anonymous, viewer / commenter / editor (invited accounts and share links), the owner,
a revoked link, an expired link, forged tokens and another user's token. Expected: 401 without a
valid identity, 404 for an identity with no access (ids of others' documents cannot be probed),
403 for too low a role, 2xx otherwise. After every refused write the stored document is
unchanged: the same state vector (no stored operation at all) and the same content.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from pycrdt import Text, XmlElement, XmlFragment, XmlText

from server.security import LINK_PREFIX, new_token, token_hash
from storage import accounts
from storage import shares as store_shares
from storage.models import utcnow
from storage.updates import load_updates
from tests.support.accounts import link_share, make_account
from tests.support.yclient import YClient, eventually

RANK = {"viewer": 1, "commenter": 2, "editor": 3, "owner": 4}

# (method, path under /api/docs/{id}, json body, role needed); {tid} {vid} {sid} filled in
ROUTES = [
    ("GET", "", None, "viewer"),
    ("GET", "/content", None, "viewer"),
    ("GET", "/export.md", None, "viewer"),
    ("GET", "/comments", None, "viewer"),
    ("GET", "/comments/{tid}", None, "viewer"),
    ("GET", "/versions", None, "viewer"),
    ("GET", "/versions/{vid}", None, "viewer"),
    ("POST", "/comments", {"quote": "secret", "body": "hm"}, "commenter"),
    ("POST", "/comments/{tid}/replies", {"body": "re"}, "commenter"),
    # the owner's thread: besides its author, editors resolve it (crdt/COMMENTS.md)
    ("PATCH", "/comments/{tid}", {"resolved": True}, "editor"),
    ("PATCH", "", {"title": "Renamed"}, "editor"),
    ("POST", "/versions", {"name": "v"}, "editor"),
    ("POST", "/versions/{vid}/restore", None, "editor"),
    ("GET", "/shares", None, "owner"),
    ("POST", "/links", {"role": "viewer"}, "owner"),
    ("POST", "/shares", {"username": "stranger", "role": "viewer"}, "owner"),
    ("DELETE", "/shares/{sid}", None, "owner"),
    ("DELETE", "", None, "owner"),
]


def stored(server, doc_id: str):
    """What is stored of the document: its state vector (any stored write advances it) and its
    content. Compacting the log in between changes neither."""
    from pycrdt import Doc, Map

    from crdt.markdown import fragment_to_json
    from tests.support.yclient import decode_state_vector

    doc = Doc()
    for update in load_updates(server.engine, doc_id=doc_id).updates:
        doc.apply_update(update)
    return (decode_state_vector(doc.get_state()), fragment_to_json(doc),
            doc.get("comments", type=Map).to_py(), doc.get("meta", type=Map).to_py())


@pytest.fixture
async def world(server):
    """A document with text, a comment and a version, and one token per kind of caller."""
    doc_id = await server.new_doc("Confidential")
    room = await server.rooms.with_room(doc_id)
    fragment = room.doc.get("default", type=XmlFragment)
    with room.doc.transaction():
        fragment.children.append(XmlElement("paragraph")).children.append(
            XmlText("A secret plan."))
    await room.drain()
    engine = server.engine
    tokens: dict[str, str | None] = {"anonymous": None, "owner": server.token}
    for role in ("viewer", "commenter", "editor"):
        username, token = await asyncio.to_thread(make_account, engine, f"{role}-user")
        tokens[f"invited {role}"] = token
        async with server.client() as http:
            r = await http.post(f"/api/docs/{doc_id}/shares",
                                json={"username": username, "role": role})
            assert r.status_code == 201, r.text
        tokens[f"link {role}"] = await server.link(doc_id, role)
    _, tokens["another user"] = await asyncio.to_thread(make_account, engine, "stranger")
    revoked = await server.link(doc_id, "editor")
    share = link_share(engine, revoked)
    store_shares.revoke_share(engine, doc_id=doc_id, share_id=share.id)
    tokens["revoked link"] = revoked
    expired = new_token(LINK_PREFIX)
    store_shares.create_share(engine, doc_id=doc_id, role="editor", created_by=None,
                              token_hash=token_hash(expired),
                              expires_at=utcnow() - timedelta(minutes=1))
    tokens["expired link"] = expired
    tokens["forged link"] = LINK_PREFIX + "x" * 43
    tokens["forged personal"] = "qp_" + "y" * 43
    async with server.client() as http:
        tid = (await http.post(f"/api/docs/{doc_id}/comments",
                               json={"quote": "secret", "body": "why?"})).json()["id"]
        vid = (await http.post(f"/api/docs/{doc_id}/versions", json={"name": "v1"})).json()["id"]
        sid = (await http.get(f"/api/docs/{doc_id}/shares")).json()[0]["id"]
    return doc_id, tokens, {"tid": tid, "vid": vid, "sid": sid}


def role_of(caller: str) -> str | None:
    if caller == "owner":
        return "owner"
    for role in ("viewer", "commenter", "editor"):
        if caller.endswith(role) and not caller.startswith(("revoked", "expired")):
            return role
    return None


def expected_status(caller: str, needed: str, method: str) -> int:
    role = role_of(caller)
    if caller == "another user":
        return 404
    if role is None:
        return 401
    if RANK[role] < RANK[needed]:
        return 403
    return {"POST": 201, "DELETE": 204}.get(method, 200)


def expected_success(method: str, path: str) -> int:
    if path.endswith("/restore"):
        return 200
    return {"POST": 201, "DELETE": 204}.get(method, 200)


async def test_rest_matrix(server, world):
    doc_id, tokens, ids = world
    checked = 0
    # the owner goes last: its DELETE of the document ends the matrix
    callers = [c for c in tokens if c != "owner"] + ["owner"]
    for caller in callers:
        async with server.client(token=tokens[caller]) as http:
            for method, path, body, needed in ROUTES:
                want = expected_status(caller, needed, method)
                if want < 400:
                    want = expected_success(method, path)
                url = f"/api/docs/{doc_id}{path.format(**ids)}"
                if method == "DELETE" and path.startswith("/shares") and want == 204:
                    # revoke a throw-away link, not the share the matrix relies on
                    extra = await server.link(doc_id, "viewer")
                    share = link_share(server.engine, extra)
                    url = f"/api/docs/{doc_id}/shares/{share.id}"
                before = stored(server, doc_id) if method != "GET" and want >= 400 else None
                r = await http.request(method, url, json=body)
                assert r.status_code == want, (caller, method, path, r.status_code, r.text)
                if before is not None:
                    room = server.rooms.open_room(doc_id)
                    if room is not None:
                        await room.drain()
                    assert stored(server, doc_id) == before, (caller, method, path)
                checked += 1
    assert checked == len(callers) * len(ROUTES)


async def test_dashboard_lists_only_documents_you_may_open(server, world):
    doc_id, tokens, _ = world
    async with server.client(token=tokens["another user"]) as http:
        assert (await http.get("/api/docs")).json()["total"] == 0
    async with server.client(token=tokens["invited viewer"]) as http:
        assert [d["id"] for d in (await http.get("/api/docs")).json()["items"]] == [doc_id]
    async with server.client(token=None) as http:
        assert (await http.get("/api/docs")).status_code == 401
        assert (await http.post("/api/docs", json={"title": "x"})).status_code == 401


WS_EXPECTED = {
    "anonymous": 4401, "forged link": 4401, "forged personal": 4401, "revoked link": 4401,
    "expired link": 4401, "another user": 4404,  # the same answer as an unknown id
}


async def test_websocket_matrix(server, world):
    doc_id, tokens, _ = world
    for caller, token in tokens.items():
        client = YClient(server.ws(doc_id, token=token))
        await client.connect()
        if caller in WS_EXPECTED:
            await asyncio.wait_for(client.closed.wait(), 5)
            assert client.close_code == WS_EXPECTED[caller], caller
        else:
            await client.wait_synced()
            from crdt.markdown import document_text

            assert document_text(client.doc) == "A secret plan.", caller
            await client.close()


async def test_viewer_updates_are_never_applied_but_presence_works(server, world):
    doc_id, tokens, _ = world
    editor = YClient(server.ws(doc_id, token=tokens["link editor"]))
    viewer = YClient(server.ws(doc_id, token=tokens["link viewer"]))
    for client in (editor, viewer):
        await client.connect()
        await client.wait_synced()
    before = stored(server, doc_id)
    viewer.doc.get("default", type=XmlFragment).children[0].children[0].insert(0, "HACKED ")
    viewer.doc.get("t", type=Text).insert(0, "x")
    await eventually(lambda: any(m[0] == 2 for m in viewer.received))  # permission denied
    assert not viewer.closed.is_set()
    await viewer.set_user({"user": {"name": "Vic the viewer", "color": "#335577"}})
    await eventually(lambda: viewer.doc.client_id in editor.awareness.states)
    room = server.rooms.open_room(doc_id)
    await room.drain()
    assert "HACKED" not in str(room.doc.get("default", type=XmlFragment))
    assert "HACKED" not in str(editor.doc.get("default", type=XmlFragment))
    assert stored(server, doc_id) == before
    assert server.rooms.stats.updates_refused >= 1
    # the editor's typing still reaches the viewer live
    editor.doc.get("default", type=XmlFragment).children[0].children[0].insert(0, "Live: ")
    await eventually(lambda: "Live: " in str(viewer.doc.get("default", type=XmlFragment)))
    await editor.close()
    await viewer.close()


async def test_commenter_raw_text_edit_refused_comment_accepted(server, world):
    from crdt.comments import create_thread, list_threads

    doc_id, tokens, _ = world
    commenter = YClient(server.ws(doc_id, token=tokens["invited commenter"]))
    await commenter.connect()
    await commenter.wait_synced()
    before = stored(server, doc_id)
    # a crafted update that edits the text, bypassing any UI
    commenter.doc.get("default", type=XmlFragment).children[0].children[0].insert(2, "very ")
    await eventually(lambda: any(m[0] == 2 for m in commenter.received))
    room = server.rooms.open_room(doc_id)
    await room.drain()
    assert "very" not in str(room.doc.get("default", type=XmlFragment))
    assert stored(server, doc_id) == before
    await commenter.close()

    # the same person, resynced, adds a comment under their account id: accepted
    fresh = YClient(server.ws(doc_id, token=tokens["invited commenter"]))
    await fresh.connect()
    await fresh.wait_synced()
    me = accounts.get_user_by_username(server.engine, username="commenter-user")
    thread_id = create_thread(fresh.doc, author={"id": me.id, "name": me.display_name,
                                                 "username": me.username, "color": "#225588"},
                              body="Is this right?", quote="plan")
    await eventually(lambda: any(t["id"] == thread_id for t in list_threads(room.doc)))
    thread = next(t for t in list_threads(room.doc) if t["id"] == thread_id)
    assert thread["anchor_text"] == "plan" and thread["state"] == "open"
    await fresh.close()


async def test_revoking_a_link_drops_its_connections_at_once(server, world):
    doc_id, tokens, _ = world
    link = await server.link(doc_id, "viewer")
    viewer = YClient(server.ws(doc_id, token=link))
    await viewer.connect()
    await viewer.wait_synced()
    share = link_share(server.engine, link)
    async with server.client() as http:
        r = await http.delete(f"/api/docs/{doc_id}/shares/{share.id}")
        assert r.status_code == 204
    await asyncio.wait_for(viewer.closed.wait(), 2)
    assert viewer.close_code == 4403
    assert "removed" in viewer.close_reason
    again = YClient(server.ws(doc_id, token=link))
    await again.connect()
    await asyncio.wait_for(again.closed.wait(), 5)
    assert again.close_code == 4401


async def test_downgrading_an_invitation_applies_on_the_wire_at_once(server, world):
    doc_id, tokens, _ = world
    editor = YClient(server.ws(doc_id, token=tokens["invited editor"]))
    await editor.connect()
    await editor.wait_synced()
    async with server.client() as http:
        r = await http.post(f"/api/docs/{doc_id}/shares",
                            json={"username": "editor-user", "role": "viewer"})
        assert r.status_code == 201
    # told at once (a non-terminal code: the page reconnects and reads its new role)
    await asyncio.wait_for(editor.closed.wait(), 2)
    assert editor.close_code == 3001
    before = stored(server, doc_id)
    again = YClient(server.ws(doc_id, token=tokens["invited editor"]), doc=editor.doc)
    await again.connect()
    await again.wait_synced()
    editor.doc.get("default", type=XmlFragment).children[0].children[0].insert(0, "late ")
    await eventually(lambda: any(m[0] == 2 for m in again.received))
    assert stored(server, doc_id) == before
    await again.close()


async def test_comments_written_in_someone_elses_name_get_the_authors_own(server, world):
    """Under one's own id but another display name: the name is corrected, the id kept."""
    from crdt.comments import add_reply, create_thread, list_threads

    doc_id, tokens, _ = world
    editor = YClient(server.ws(doc_id, token=tokens["invited editor"]))
    await editor.connect()
    await editor.wait_synced()
    me = accounts.get_user_by_username(server.engine, username="editor-user")
    forged = {"id": me.id, "name": "The Owner", "username": me.username, "color": "#aa3300"}
    thread_id = create_thread(editor.doc, author=forged, body="Approved.", quote="plan")
    add_reply(editor.doc, thread_id, author=forged, body="Really.")
    room = server.rooms.open_room(doc_id)

    def authors():
        thread = next((t for t in list_threads(room.doc) if t["id"] == thread_id), None)
        return thread and [thread["author"]["name"]] + [m["author"]["name"]
                                                          for m in thread["messages"]]

    await eventually(lambda: authors() == ["Editor-User"] * 3)
    # the correction reaches the writer too, and keeps the colour it chose
    await eventually(lambda: [m["author"] for m in next(
        t for t in list_threads(editor.doc) if t["id"] == thread_id)["messages"]] == [
        {"id": me.id, "name": "Editor-User", "username": "editor-user", "color": "#aa3300"}] * 2)
    assert authors() == ["Editor-User"] * 3
    await editor.close()
