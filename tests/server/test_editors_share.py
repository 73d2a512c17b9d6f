"""Owners may let editors share (issue 18, item 12), and whose each document is.

| who | "Editors can share" off | on |
|---|---|---|
| owner | shares; turns the setting on and off (PATCH `editors_can_share`) | the same |
| editor (account) | 403 on every sharing route | invites and makes links up to editor, lists and revokes shares; never grants owner, never changes the setting |
| editor through a link only | 403 | 403 (no account to answer for it) |
| commenter, viewer | 403 | 403 |
| anyone without access | 404 | 404 |
"""

from __future__ import annotations

import asyncio

import pytest

from tests.support.accounts import make_account


@pytest.fixture
async def shared(server):
    """A document of the test user ("Tester") shared with an editor, a commenter and a viewer;
    tokens by role, and a stranger's."""
    doc_id = await server.new_doc("Roadmap")
    tokens = {"owner": server.token}
    async with server.client() as http:
        for role in ("editor", "commenter", "viewer"):
            username, tokens[role] = await asyncio.to_thread(make_account, server.engine, f"{role}-x")
            r = await http.post(f"/api/docs/{doc_id}/shares", json={"username": username, "role": role})
            assert r.status_code == 201, r.text
    tokens["editor link"] = await server.link(doc_id, "editor")
    _, tokens["stranger"] = await asyncio.to_thread(make_account, server.engine, "stranger")
    for name in ("guest-a", "guest-b"):
        await asyncio.to_thread(make_account, server.engine, name)
    return doc_id, tokens


async def sharing_attempts(server, doc_id: str, token: str) -> dict[str, int]:
    """The status of each sharing route for `token` (a share to revoke made by the owner)."""
    async with server.client() as owner:
        target = (await owner.post(f"/api/docs/{doc_id}/links", json={"role": "viewer"})).json()["id"]
    async with server.client(token) as http:
        return {
            "list": (await http.get(f"/api/docs/{doc_id}/shares")).status_code,
            "invite": (await http.post(f"/api/docs/{doc_id}/shares",
                                       json={"username": "guest-a", "role": "commenter"})).status_code,
            "link": (await http.post(f"/api/docs/{doc_id}/links", json={"role": "editor"})).status_code,
            "revoke": (await http.delete(f"/api/docs/{doc_id}/shares/{target}")).status_code,
        }


ALLOWED = {"list": 200, "invite": 201, "link": 201, "revoke": 204}


async def set_editors_share(server, doc_id: str, allowed: bool, token: str | None = "") -> int:
    async with server.client(token) as http:
        r = await http.patch(f"/api/docs/{doc_id}", json={"editors_can_share": allowed})
        return r.status_code


async def test_editors_share_only_when_the_owner_lets_them(server, shared):
    doc_id, tokens = shared
    refused = dict.fromkeys(ALLOWED, 403)
    assert await sharing_attempts(server, doc_id, tokens["editor"]) == refused
    async with server.client(tokens["editor"]) as http:
        doc = (await http.get(f"/api/docs/{doc_id}")).json()
        assert (doc["role"], doc["editors_can_share"], doc["can_share"]) == ("editor", False, False)

    assert await set_editors_share(server, doc_id, True) == 200
    async with server.client(tokens["editor"]) as http:
        doc = (await http.get(f"/api/docs/{doc_id}")).json()
        assert (doc["editors_can_share"], doc["can_share"]) == (True, True)
        listed = (await http.get("/api/docs")).json()["items"]
        assert [(d["id"], d["can_share"]) for d in listed] == [(doc_id, True)]
    assert await sharing_attempts(server, doc_id, tokens["editor"]) == ALLOWED
    # guest-a really was invited, by the editor
    async with server.client() as http:
        shares = (await http.get(f"/api/docs/{doc_id}/shares")).json()
        assert ("guest-a", "commenter") in [(s["username"], s["role"]) for s in shares]

    # the owner takes it back: refused again at once
    assert await set_editors_share(server, doc_id, False) == 200
    assert await sharing_attempts(server, doc_id, tokens["editor"]) == refused


async def test_commenters_viewers_link_editors_and_strangers_never_share(server, shared):
    doc_id, tokens = shared
    assert await set_editors_share(server, doc_id, True) == 200
    for who, expected in (("commenter", 403), ("viewer", 403), ("editor link", 403),
                          ("stranger", 404)):
        assert await sharing_attempts(server, doc_id, tokens[who]) == dict.fromkeys(ALLOWED, expected), who
    async with server.client(None) as http:  # nobody
        assert (await http.get(f"/api/docs/{doc_id}/shares")).status_code == 401


async def test_an_editor_never_grants_owner_nor_touches_the_owner_or_the_setting(server, shared):
    doc_id, tokens = shared
    assert await set_editors_share(server, doc_id, True) == 200
    async with server.client(tokens["editor"]) as http:
        base = f"/api/docs/{doc_id}"
        for body in ({"username": "guest-b", "role": "owner"},
                     {"username": "guest-b", "role": "admin"},
                     {"username": "guest-b", "role": ["editor", "owner"]}):
            assert (await http.post(f"{base}/shares", json=body)).status_code == 422, body
        assert (await http.post(f"{base}/links", json={"role": "owner"})).status_code == 422
        # the owner is not a share: not re-invited, not revocable
        r = await http.post(f"{base}/shares", json={"username": server.username, "role": "viewer"})
        assert r.status_code == 422
        assert (await http.delete(f"{base}/shares/owner")).status_code == 404
        # the setting stays the owner's, alone or beside a rename
        assert (await http.patch(base, json={"editors_can_share": False})).status_code == 403
        r = await http.patch(base, json={"title": "Hijacked", "editors_can_share": False})
        assert r.status_code == 403
        assert (await http.get(base)).json()["title"] == "Roadmap"  # nothing of it was applied
        assert (await http.delete(base)).status_code == 403
    async with server.client() as http:
        doc = (await http.get(f"/api/docs/{doc_id}")).json()
        assert (doc["role"], doc["editors_can_share"], doc["can_share"]) == ("owner", True, True)
        assert "guest-b" not in [s["username"] for s in (await http.get(f"/api/docs/{doc_id}/shares")).json()]
    for who in ("commenter", "viewer"):
        assert await set_editors_share(server, doc_id, False, tokens[who]) == 403


async def test_patch_needs_something_to_change(server, shared):
    doc_id, _ = shared
    async with server.client() as http:
        for body in ({}, {"editors_can_share": None}, {"editors_can_share": "maybe"}, {"title": ""}):
            assert (await http.patch(f"/api/docs/{doc_id}", json=body)).status_code == 422, body
        r = await http.patch(f"/api/docs/{doc_id}", json={"title": "Roadmap 2", "editors_can_share": True})
        assert r.status_code == 200
        assert (r.json()["title"], r.json()["editors_can_share"]) == ("Roadmap 2", True)


async def test_every_document_says_whose_it_is(server, shared):
    """The dashboard's rows carry the owner's display name (one query for the page), the
    document's own page too; the caller's own documents as well."""
    doc_id, tokens = shared
    mine = await server.new_doc("Mine")
    async with server.client(tokens["viewer"]) as http:
        theirs = (await http.post("/api/docs", json={"title": "Viewer's own"})).json()
        assert theirs["owner_name"] == "Viewer-X"
        items = (await http.get("/api/docs", params={"sort": "title"})).json()["items"]
        assert [(d["title"], d["owner_name"], d["role"]) for d in items] == [
            ("Roadmap", "Tester", "viewer"), ("Viewer's own", "Viewer-X", "owner")]
        assert (await http.get(f"/api/docs/{doc_id}")).json()["owner_name"] == "Tester"
    async with server.client() as http:
        items = (await http.get("/api/docs")).json()["items"]
        assert {d["id"]: d["owner_name"] for d in items} == {mine: "Tester", doc_id: "Tester"}
