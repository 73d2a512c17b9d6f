"""Comment ownership over REST, against a real `quire serve` (issue 14, item 3).

Comments belong to account ids, not display names: a commenter cannot edit, delete or resolve
the editor's comment, cannot post under another person's id, username or name, and two
accounts with the same display name are told apart (username) in the comment list. After every
refused attempt the document as the owner reads it is unchanged. (The same rules on the
WebSocket — forged Yjs updates — are tested with the update inspector.)
"""

from __future__ import annotations

import httpx

from tests.security.conftest import Person, SecureQuire

PASSAGE = "first paragraph"


async def thread_by(quire: SecureQuire, doc: str, role: str, body: str) -> dict:
    """A thread `role` opens on the seed text over REST."""
    async with quire.client(role) as client:
        response = await client.post(f"/api/docs/{doc}/comments",
                                     json={"quote": PASSAGE, "body": body})
        assert response.status_code == 201, response.text
        return response.json()


async def refused(quire: SecureQuire, doc: str, role: str, method: str, path: str,
                  body: dict | None = None) -> httpx.Response:
    """`role` tries a change: it must be answered 403 and change nothing the owner sees."""
    before = await quire.owner_view(doc)
    async with quire.client(role) as client:
        response = await client.request(method, f"/api/docs/{doc}/comments{path}", json=body)
    assert response.status_code == 403, (method, path, response.status_code, response.text)
    assert response.json()["detail"], "a refusal says why"
    assert await quire.owner_view(doc) == before, (method, path)
    return response


def twin_of(quire: SecureQuire, role: str) -> Person:
    """A new account whose display name is the same as `role`'s (a name anyone can copy at
    sign-up), with a personal API token."""
    from sqlalchemy import create_engine

    from server.security import PERSONAL_PREFIX, new_token, token_hash
    from storage import accounts
    from tests.support.accounts import password_hash

    engine = create_engine(quire.process.database_url)
    try:
        original = accounts.get_user_by_username(engine, username=quire.cast[role].username)
        assert original is not None
        username = f"twin-{original.username}"
        user = accounts.create_user(engine, username=username,
                                    display_name=original.display_name,
                                    password_hash=password_hash())
        token = new_token(PERSONAL_PREFIX)
        accounts.add_api_token(engine, user_id=user.id, token_hash=token_hash(token),
                               name="tests")
    finally:
        engine.dispose()
    return Person(f"twin of {role}", user.username, user.id, token)


async def test_a_commenter_cannot_edit_delete_or_resolve_the_editors_comment(quire):
    doc = await quire.new_doc()
    thread = await thread_by(quire, doc, "editor", "The editor's point.")
    tid, mid = thread["id"], thread["messages"][0]["id"]
    assert thread["author"]["id"] == quire.cast["editor"].user_id
    async with quire.probe():
        await refused(quire, doc, "commenter", "PATCH", f"/{tid}/messages/{mid}",
                      {"body": "Rewritten by the commenter"})
        await refused(quire, doc, "commenter", "DELETE", f"/{tid}/messages/{mid}")
        await refused(quire, doc, "commenter", "DELETE", f"/{tid}")
        await refused(quire, doc, "commenter", "PATCH", f"/{tid}", {"resolved": True})
        # the owner may delete and resolve, but not put words in the editor's mouth
        await refused(quire, doc, "owner", "PATCH", f"/{tid}/messages/{mid}", {"body": "Owner"})
        # nor may the viewer do anything at all
        await refused(quire, doc, "viewer", "DELETE", f"/{tid}/messages/{mid}")
    after = (await quire.owner_view(doc))["comments"]["items"]
    assert [(m["body"], m["deleted"]) for m in after[0]["messages"]] == [
        ("The editor's point.", False)]


async def test_a_commenter_cannot_resolve_someone_elses_thread_but_their_own(quire):
    doc = await quire.new_doc()
    editors = await thread_by(quire, doc, "editor", "Resolve me, if you can.")
    mine = await thread_by(quire, doc, "commenter", "My own question.")
    async with quire.probe():
        await refused(quire, doc, "commenter", "PATCH", f"/{editors['id']}", {"resolved": True})
        async with quire.client("commenter") as client:
            response = await client.patch(f"/api/docs/{doc}/comments/{mine['id']}",
                                          json={"resolved": True})
        assert response.status_code == 200
        assert response.json()["resolved_by"]["id"] == quire.cast["commenter"].user_id
        # resolved by the editor (any editor may): the commenter cannot reopen it either
        async with quire.client("editor") as client:
            response = await client.patch(f"/api/docs/{doc}/comments/{editors['id']}",
                                          json={"resolved": True})
        assert response.json()["state"] == "resolved"
        await refused(quire, doc, "commenter", "PATCH", f"/{editors['id']}",
                      {"resolved": False})


async def test_a_commenter_cannot_post_under_another_id_or_name(quire):
    doc = await quire.new_doc()
    editor = quire.cast["editor"]
    editors = await thread_by(quire, doc, "editor", "Original.")
    shown = editors["author"]
    async with quire.probe():
        for forged in ({"id": editor.user_id}, {"username": editor.username},
                       {"id": editor.user_id, "username": editor.username}):
            author = {"name": shown["name"], "color": shown["color"], **forged}
            await refused(quire, doc, "commenter", "POST", "",
                          {"quote": PASSAGE, "body": "Signed: the editor", "author": author})
            await refused(quire, doc, "commenter", "POST", f"/{editors['id']}/replies",
                          {"body": "Agreed — the editor", "author": author})
        # the editor's display name alone does not make it the editor's: it is the commenter's
        async with quire.client("commenter") as client:
            response = await client.post(f"/api/docs/{doc}/comments/{editors['id']}/replies", json={
                "body": "I am the editor", "author": {"name": shown["name"], "color": "#123456"}})
        assert response.status_code == 201
        reply = response.json()["messages"][-1]
        commenter = quire.cast["commenter"]
        assert (reply["author"]["id"], reply["author"]["username"]) == (
            commenter.user_id, commenter.username)
        assert reply["author"]["name"] != shown["name"]
        # and the editor's own comment is still the editor's only
        await refused(quire, doc, "commenter", "PATCH",
                      f"/{editors['id']}/messages/{editors['messages'][0]['id']}", {"body": "x"})


async def test_two_accounts_with_the_same_display_name_are_told_apart(quire):
    doc = await quire.new_doc()
    twin = twin_of(quire, "commenter")
    async with quire.client("owner") as owner:
        response = await owner.post(f"/api/docs/{doc}/shares",
                                    json={"username": twin.username, "role": "commenter"})
        assert response.status_code == 201
    original = await thread_by(quire, doc, "commenter", "From the original.")
    async with httpx.AsyncClient(base_url=quire.http, headers=twin.headers, timeout=10) as as_twin:
        response = await as_twin.post(f"/api/docs/{doc}/comments",
                                      json={"quote": "second paragraph", "body": "From the twin."})
        assert response.status_code == 201
        copy = response.json()
        async with quire.probe():
            # same name, different person: the twin owns nothing of the original's
            before = await quire.owner_view(doc)
            mid = original["messages"][0]["id"]
            for method, path, body in (
                ("PATCH", f"/{original['id']}/messages/{mid}", {"body": "Twin's words"}),
                ("DELETE", f"/{original['id']}/messages/{mid}", None),
                ("DELETE", f"/{original['id']}", None),
                ("PATCH", f"/{original['id']}", {"resolved": True}),
            ):
                response = await as_twin.request(method, f"/api/docs/{doc}/comments{path}",
                                                 json=body)
                assert response.status_code == 403, (method, path)
                assert await quire.owner_view(doc) == before
    listed = {t["id"]: t["author"] for t in (await quire.owner_view(doc))["comments"]["items"]}
    first, second = listed[original["id"]], listed[copy["id"]]
    assert first["name"] == second["name"]  # the same display name ...
    assert (first["username"], first["id"]) == (quire.cast["commenter"].username,
                                                 quire.cast["commenter"].user_id)
    assert (second["username"], second["id"]) == (twin.username, twin.user_id)  # ... told apart
