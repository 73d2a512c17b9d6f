"""Notifications, as a person meets them: mentioned in a comment, answered in a thread they took
part in, invited to a document — listed in their inbox, counted live (server-sent events) and
marked read. Made by the server from the document itself: nobody is told about a document they
cannot read, nobody is told of their own doing, and a message forged over the wire makes none."""

from __future__ import annotations

import asyncio
import contextlib
import json

import httpx
from pycrdt import Array, Map

from storage import accounts
from storage import shares as store_shares
from tests.server.test_comments_api import seeded
from tests.support.accounts import make_account
from tests.support.yclient import YClient


async def person(server, name: str, *, invite: str | None = None, doc_id: str | None = None):
    """An account (username, token); invited to `doc_id` with role `invite` if given."""
    username, token = await asyncio.to_thread(make_account, server.engine, name)
    if invite:
        async with server.client() as owner:
            r = await owner.post(f"/api/docs/{doc_id}/shares", json={"username": username,
                                                                     "role": invite})
            assert r.status_code == 201, r.text
    return username, token


async def inbox(server, token: str) -> dict:
    async with server.client(token) as client:
        r = await client.get("/api/notifications")
        assert r.status_code == 200, r.text
        return r.json()


def thread_data(thread_id: str, author: dict, body: str, quote: str, at: int = 1) -> Map:
    """A comment thread as a browser writes it (crdt/COMMENTS.md), with its first message."""
    return Map({
        "id": thread_id, "createdAt": at, "author": author, "quote": quote,
        "resolved": False, "resolvedAt": None, "resolvedBy": None,
        "messages": Array([Map({"id": f"{thread_id}-1", "author": author, "body": body,
                                "createdAt": at, "editedAt": None, "deleted": False})]),
    })


async def settle(server) -> None:
    await server.app.state.notifier.flush()


@contextlib.asynccontextmanager
async def unread_counts(base_url: str, token: str):
    """The unread counts a page's bell would get from /api/notifications/stream, as a queue."""
    counts: asyncio.Queue[int] = asyncio.Queue()

    async def listen() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as client:
            async with client.stream("GET", "/api/notifications/stream") as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        await counts.put(json.loads(line[6:])["unread"])

    task = asyncio.create_task(listen())
    try:
        yield counts
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_mention_in_a_comment_reaches_the_person_named_and_nobody_else(server):
    doc_id = await seeded(server, "Our edge nodes serve 40% of traffic.")
    _, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="editor", doc_id=doc_id)
    (await inbox(server, bea))  # the invitation
    async with server.client() as owner:
        r = await owner.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "40% of traffic", "body": "@bea can you check this number?"})
        assert r.status_code == 201, r.text
        thread_id = r.json()["id"]
    await settle(server)

    page = await inbox(server, bea)
    mention = page["items"][0]
    assert mention["kind"] == "mention"
    assert mention["actor"]["name"] == "Tester"
    assert mention["quote"] == "40% of traffic"
    assert mention["excerpt"] == "@bea can you check this number?"
    assert mention["url"] == f"/d/{doc_id}?thread={thread_id}"
    assert mention["doc_title"] == "Test"
    assert page["unread"] == 2  # the invitation and the mention
    assert [n["kind"] for n in (await inbox(server, cid))["items"]] == ["share"]
    assert (await inbox(server, server.token))["items"] == []  # not told of one's own


async def test_nobody_is_told_about_a_document_they_cannot_read(server):
    doc_id = await seeded(server, "A private passage.")
    _, outsider = await person(server, "outsider")
    async with server.client() as owner:
        r = await owner.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "private", "body": "@outsider look at this"})
        assert r.status_code == 201
    await settle(server)
    assert (await inbox(server, outsider)) == {"items": [], "unread": 0}


async def test_a_reply_tells_those_who_took_part_once_even_when_also_mentioned(server):
    doc_id = await seeded(server, "Latency is 12 ms at the edge.")
    _, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="commenter", doc_id=doc_id)
    _, dan = await person(server, "dan", invite="commenter", doc_id=doc_id)
    async with server.client(bea) as client:
        thread_id = (await client.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "12 ms", "body": "Source?"})).json()["id"]
    async with server.client(cid) as client:
        r = await client.post(f"/api/docs/{doc_id}/comments/{thread_id}/replies",
                              json={"body": "From the March run."})
        assert r.status_code == 201
    async with server.client() as owner:  # the owner answers both and names bea
        r = await owner.post(f"/api/docs/{doc_id}/comments/{thread_id}/replies",
                             json={"body": "@bea and cid: thanks, noted."})
        assert r.status_code == 201
    await settle(server)

    bea_kinds = [(n["kind"], n["excerpt"]) for n in (await inbox(server, bea))["items"]
                 if n["kind"] != "share"]
    assert bea_kinds == [("mention", "@bea and cid: thanks, noted."),
                         ("reply", "From the March run.")]
    cid_kinds = [(n["kind"], n["excerpt"]) for n in (await inbox(server, cid))["items"]
                 if n["kind"] != "share"]
    assert cid_kinds == [("reply", "@bea and cid: thanks, noted.")]
    assert [n["kind"] for n in (await inbox(server, dan))["items"]] == ["share"]


async def test_marking_read_some_or_all_and_only_ones_own(server):
    doc_id = await seeded(server, "Numbers.")
    _, bea = await person(server, "bea", invite="editor", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="editor", doc_id=doc_id)
    async with server.client() as owner:
        for body in ("@bea one", "@bea two", "@cid three"):
            await owner.post(f"/api/docs/{doc_id}/comments", json={"quote": "Numbers",
                                                                  "body": body})
    await settle(server)
    page = await inbox(server, bea)
    assert page["unread"] == 3
    first = page["items"][0]["id"]
    cids = [n["id"] for n in (await inbox(server, cid))["items"]]
    async with server.client(bea) as client:
        r = await client.post("/api/notifications/read", json={"ids": [first, *cids]})
        assert r.json() == {"unread": 2}
        assert (await client.post("/api/notifications/read", json={})).status_code == 422
        r = await client.post("/api/notifications/read", json={"all": True})
        assert r.json() == {"unread": 0}
    assert (await inbox(server, cid))["unread"] == 2  # bea cannot touch cid's
    async with server.client(None) as anonymous:
        assert (await anonymous.get("/api/notifications")).status_code == 401


async def test_a_mention_written_over_the_wire_is_read_from_the_document(server):
    """A commenter's browser adds a thread over the WebSocket: the server reads the mention
    from the document it stored, and notifies whom it names."""
    doc_id = await seeded(server, "Edge nodes.")
    bea_name, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="commenter", doc_id=doc_id)
    bea_id = (await asyncio.to_thread(accounts.get_user_by_username, server.engine,
                                      username=bea_name)).id
    client = YClient(server.ws(doc_id, token=bea))
    await client.connect()
    await client.wait_synced()
    try:
        comments = client.doc.get("comments", type=Map)
        me = {"id": bea_id, "name": "Bea", "username": "bea", "color": "#2255aa"}
        with client.doc.transaction():
            comments["t1"] = thread_data("t1", me, "@cid please look", "Edge nodes")
        for _ in range(250):  # invitation + mention
            await settle(server)
            if (await inbox(server, cid))["unread"] == 2:
                break
            await asyncio.sleep(0.02)
        mention = (await inbox(server, cid))["items"][0]
        assert (mention["kind"], mention["actor"]["id"], mention["thread_id"]) == ("mention", bea_id, "t1")

        # a message under someone else's account id is refused on the wire: no notification
        forged = {"id": (await asyncio.to_thread(accounts.get_user_by_username, server.engine,
                                                 username="tester")).id,
                  "name": "Tester", "username": "tester", "color": "#2255aa"}
        with client.doc.transaction():
            comments["t2"] = thread_data("t2", forged, "@cid forged", "Edge nodes", at=2)
        for _ in range(250):  # refused: the server says so (y-protocols' permission denied)
            if any(m[0] == 2 for m in client.received):
                break
            await asyncio.sleep(0.02)
        assert any(m[0] == 2 for m in client.received)
    finally:
        await client.close()
    await settle(server)
    assert [n["excerpt"] for n in (await inbox(server, cid))["items"]] == [
        "@cid please look", "as commenter"]


async def test_an_invitation_is_a_notification(server):
    doc_id = await server.new_doc("Q3 white paper")
    _, bea = await person(server, "bea", invite="editor", doc_id=doc_id)
    share = (await inbox(server, bea))["items"]
    assert [(n["kind"], n["quote"], n["excerpt"], n["url"]) for n in share] == [
        ("share", "Q3 white paper", "as editor", f"/d/{doc_id}")]


async def test_the_unread_count_is_live(server):
    """The bell listens to /api/notifications/stream: the count now, then each change."""
    doc_id = await seeded(server, "Live count.")
    _, bea = await person(server, "bea", invite="editor", doc_id=doc_id)
    async with unread_counts(server.http, bea) as counts:
        assert await asyncio.wait_for(counts.get(), 5) == 1  # the invitation
        async with server.client() as owner:
            await owner.post(f"/api/docs/{doc_id}/comments", json={"quote": "Live",
                                                                  "body": "@bea now"})
        assert await asyncio.wait_for(counts.get(), 5) == 2
        async with server.client(bea) as client:
            await client.post("/api/notifications/read", json={"all": True})
        assert await asyncio.wait_for(counts.get(), 5) == 0


async def test_revoked_access_stops_notifications(server):
    doc_id = await seeded(server, "Revoked.")
    _, bea = await person(server, "bea", invite="editor", doc_id=doc_id)
    for share, _user in await asyncio.to_thread(store_shares.list_shares, server.engine,
                                               doc_id=doc_id):
        async with server.client() as owner:
            assert (await owner.delete(f"/api/docs/{doc_id}/shares/{share.id}")).status_code == 204
    async with server.client() as owner:
        await owner.post(f"/api/docs/{doc_id}/comments", json={"quote": "Revoked",
                                                              "body": "@bea still there?"})
    await settle(server)
    assert [n["kind"] for n in (await inbox(server, bea))["items"]] == ["share"]


async def test_email_settings(server):
    _, bea = await person(server, "bea")
    async with server.client(bea) as client:
        assert (await client.get("/api/notifications/settings")).json() == {
            "email": None, "email_notifications": "all"}
        r = await client.put("/api/notifications/settings",
                             json={"email": "bea@example.com", "email_notifications": "mentions"})
        assert r.json() == {"email": "bea@example.com", "email_notifications": "mentions"}
        for bad in ("bea", "bea@example.com\r\nBcc: x@y.z", "<b@c.de>", "a@b"):
            r = await client.put("/api/notifications/settings", json={"email": bad})
            assert r.status_code == 422, bad
        r = await client.put("/api/notifications/settings", json={"email_notifications": "loud"})
        assert r.status_code == 422
        assert (await client.get("/api/notifications/settings")).json()["email"] == "bea@example.com"


async def test_the_people_one_can_mention(server):
    doc_id = await server.new_doc()
    _, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="viewer", doc_id=doc_id)
    await person(server, "outsider")
    async with server.client(bea) as client:
        people = (await client.get(f"/api/docs/{doc_id}/people")).json()
    assert [(p["username"], p["role"]) for p in people] == [
        ("tester", "owner"), ("bea", "commenter"), ("cid", "viewer")]
    async with server.client(cid) as client:  # a viewer cannot comment, so mentions nobody
        assert (await client.get(f"/api/docs/{doc_id}/people")).status_code == 403


async def test_an_email_address_from_sign_up_the_account_page_and_the_cli(server, tmp_path):
    import re
    import subprocess
    import sys

    async with httpx.AsyncClient(base_url=server.http) as browser:
        r = await browser.post("/api/auth/signup", json={
            "username": "eve", "password": "long enough pw", "email": "not an address"})
        assert r.status_code == 422
        r = await browser.post("/api/auth/signup", json={
            "username": "eve", "password": "long enough pw", "email": "eve@example.com"})
        assert r.status_code == 201, r.text
        # the account page's form (a signed-in browser, CSRF token from the page)
        page = (await browser.get("/account")).text
        assert 'value="eve@example.com"' in page
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        r = await browser.post("/account/notifications", data={
            "csrf_token": csrf, "email": "eve@example.org", "email_notifications": "mentions"})
        assert r.status_code == 200 and "saved" in r.text
        r = await browser.post("/account/notifications", data={
            "csrf_token": "wrong", "email": "x@example.org", "email_notifications": "none"})
        assert r.status_code == 303  # a forged form changes nothing
        r = await browser.post("/account/notifications", data={
            "csrf_token": csrf, "email": "eve@example.org>\r\nBcc: a@b.cd",
            "email_notifications": "all"})
        assert r.status_code == 422
    eve = await asyncio.to_thread(accounts.get_user_by_username, server.engine, username="eve")
    assert (eve.email, eve.email_notifications) == ("eve@example.org", "mentions")

    cli = [sys.executable, "-m", "server.cli", "user", "create", "fay", "--password",
           "long enough pw", "--email", "fay@example.com", "--database-url",
           server.settings.database_url]
    done = await asyncio.to_thread(subprocess.run, cli, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    fay = await asyncio.to_thread(accounts.get_user_by_username, server.engine, username="fay")
    assert fay.email == "fay@example.com"


async def test_the_live_count_reaches_a_person_on_another_process(sqlite_url):
    """Bea's page is connected to process two; Ada mentions her through process one."""
    from tests.server.test_relay import cluster
    from tests.support.services import require_redis

    redis_url = require_redis()
    async with cluster(sqlite_url, redis_url, 2) as (one, two):
        doc_id = await seeded(one, "Across processes.")
        _, bea = await person(one, "bea", invite="editor", doc_id=doc_id)
        async with unread_counts(two.http, bea) as counts:
            assert await asyncio.wait_for(counts.get(), 5) == 1  # the invitation
            async with one.client() as owner:
                r = await owner.post(f"/api/docs/{doc_id}/comments",
                                     json={"quote": "Across", "body": "@bea over here"})
                assert r.status_code == 201
            assert await asyncio.wait_for(counts.get(), 5) == 2


async def test_assigning_a_thread_tells_the_assignee_who_can_mark_it_done(server):
    doc_id = await seeded(server, "Budget for Q3.")
    _, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="commenter", doc_id=doc_id)
    await person(server, "outsider")
    async with server.client() as owner:
        thread_id = (await owner.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "Budget", "body": "Who owns this?"})).json()["id"]
        r = await owner.put(f"/api/docs/{doc_id}/comments/{thread_id}/assignee",
                            json={"username": "outsider"})
        assert r.status_code == 422  # cannot read the document
        r = await owner.put(f"/api/docs/{doc_id}/comments/{thread_id}/assignee",
                            json={"username": "bea"})
        assert r.status_code == 200, r.text
        assert r.json()["assignee"]["username"] == "bea"
    async with server.client(cid) as client:  # not the author, not an editor: may not assign
        r = await client.put(f"/api/docs/{doc_id}/comments/{thread_id}/assignee",
                             json={"username": "cid"})
        assert r.status_code == 403
        r = await client.patch(f"/api/docs/{doc_id}/comments/{thread_id}", json={"resolved": True})
        assert r.status_code == 403  # nor resolve it
    await settle(server)
    assigned = [n for n in (await inbox(server, bea))["items"] if n["kind"] == "assigned"]
    assert [(n["actor"]["name"], n["quote"], n["url"]) for n in assigned] == [
        ("Tester", "Budget", f"/d/{doc_id}?thread={thread_id}")]

    # "Assigned to me", once the document's index follows (debounced)
    await server.app.state.search.flush()
    async with server.client(bea) as client:
        listed = (await client.get("/api/assigned")).json()
        assert [(a["thread_id"], a["quote"], a["doc_title"]) for a in listed] == [
            (thread_id, "Budget", "Test")]
        # the assignee marks it done: resolved, and no longer assigned to her
        r = await client.patch(f"/api/docs/{doc_id}/comments/{thread_id}", json={"resolved": True})
        assert r.status_code == 200 and r.json()["resolved"] is True
    await server.app.state.search.flush()
    async with server.client(bea) as client:
        assert (await client.get("/api/assigned")).json() == []
    async with server.client(cid) as client:
        assert (await client.get("/api/assigned")).json() == []


async def test_an_assignment_over_the_wire_is_judged_and_notified(server):
    """A commenter may assign their own thread, not someone else's; the assignee may resolve
    it; an assignee must be a person with an account id."""
    doc_id = await seeded(server, "Wire assignments.")
    bea_name, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    cid_name, cid = await person(server, "cid", invite="commenter", doc_id=doc_id)
    ids = {name: (await asyncio.to_thread(accounts.get_user_by_username, server.engine,
                                          username=name)).id for name in ("bea", "cid", "tester")}
    async with server.client() as owner:
        theirs = (await owner.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "Wire", "body": "The owner's thread"})).json()["id"]

    def who(name: str) -> dict:
        return {"id": ids[name], "name": name.title(), "username": name, "color": "#2255aa"}

    client = YClient(server.ws(doc_id, token=bea))
    await client.connect()
    await client.wait_synced()
    try:
        comments = client.doc.get("comments", type=Map)
        with client.doc.transaction():
            comments["mine"] = thread_data("mine", who("bea"), "Mine", "Wire")
        comments["mine"]["assignee"] = who("cid")  # her own thread: allowed
        for _ in range(100):
            await settle(server)
            if [n for n in (await inbox(server, cid))["items"] if n["kind"] == "assigned"]:
                break
            await asyncio.sleep(0.05)
        assert [n["thread_id"] for n in (await inbox(server, cid))["items"]
                if n["kind"] == "assigned"] == ["mine"]
        assert not any(m[0] == 2 for m in client.received)
        comments[theirs]["assignee"] = who("bea")  # the owner's thread: refused
        for _ in range(100):
            if any(m[0] == 2 for m in client.received):
                break
            await asyncio.sleep(0.02)
        assert any(m[0] == 2 for m in client.received)
    finally:
        await client.close()
    async with server.client() as owner:
        threads = {t["id"]: t for t in (await owner.get(f"/api/docs/{doc_id}/comments")).json()["items"]}
    assert threads[theirs]["assignee"] is None
    assert threads["mine"]["assignee"]["username"] == "cid"

    # the assignee (a commenter) resolves it over the wire
    client = YClient(server.ws(doc_id, token=cid))
    await client.connect()
    await client.wait_synced()
    try:
        thread = client.doc.get("comments", type=Map)["mine"]
        with client.doc.transaction():
            thread["resolved"] = True
            thread["resolvedAt"] = 2
            thread["resolvedBy"] = who("cid")
        for _ in range(100):
            async with server.client() as owner:
                found = {t["id"]: t for t in (await owner.get(
                    f"/api/docs/{doc_id}/comments")).json()["items"]}
            if found["mine"]["resolved"]:
                break
            await asyncio.sleep(0.05)
        assert found["mine"]["resolved"] and found["mine"]["resolved_by"]["username"] == "cid"
        assert not any(m[0] == 2 for m in client.received)
    finally:
        await client.close()
    del bea_name, cid_name


async def test_an_edit_that_adds_a_mention_tells_only_the_newly_named(server):
    doc_id = await seeded(server, "Edited mentions.")
    _, bea = await person(server, "bea", invite="commenter", doc_id=doc_id)
    _, cid = await person(server, "cid", invite="commenter", doc_id=doc_id)
    async with server.client() as owner:
        thread = (await owner.post(f"/api/docs/{doc_id}/comments", json={
            "quote": "Edited", "body": "@bea first"})).json()
        message_id = thread["messages"][0]["id"]
        r = await owner.patch(f"/api/docs/{doc_id}/comments/{thread['id']}/messages/{message_id}",
                              json={"body": "@bea first, and @cid too"})
        assert r.status_code == 200
    await settle(server)
    assert [n["kind"] for n in (await inbox(server, bea))["items"]] == ["mention", "share"]
    cid_mentions = [n for n in (await inbox(server, cid))["items"] if n["kind"] == "mention"]
    assert [n["excerpt"] for n in cid_mentions] == ["@bea first, and @cid too"]


async def test_a_mention_in_the_text_tells_the_person_once_per_new_mention(server):
    """Tiptap's Mention node in the document's text (the account id in `id`): read by the
    server from its own copy when the search index follows the document."""
    from pycrdt import XmlElement, XmlFragment, XmlText

    doc_id = await seeded(server, "Intro.")
    _, bea = await person(server, "bea", invite="viewer", doc_id=doc_id)
    await person(server, "outsider")
    ids = {n: (await asyncio.to_thread(accounts.get_user_by_username, server.engine,
                                       username=n)).id for n in ("bea", "outsider")}
    room = await server.rooms.with_room(doc_id)
    fragment = room.doc.get("default", type=XmlFragment)

    def mention_paragraph(text: str, who: str) -> None:
        with room.doc.transaction():
            paragraph = fragment.children.append(XmlElement("paragraph"))
            paragraph.children.append(XmlText(text))
            paragraph.children.append(XmlElement("mention", {"id": ids[who], "label": who.title(),
                                                             "username": who}))

    mention_paragraph("Numbers by ", "bea")
    mention_paragraph("Not for ", "outsider")
    await room.drain()
    await server.app.state.search.flush()
    await server.app.state.search.flush()  # indexing again finds nothing new
    mentions = [n for n in (await inbox(server, bea))["items"] if n["kind"] == "mention"]
    assert [(n["quote"], n["thread_id"], n["actor"]["name"]) for n in mentions] == [
        ("Numbers by @Bea", None, "")]
    assert (await inbox(server, (await person(server, "outsider"))[1]))["items"] == []

    mention_paragraph("And again ", "bea")  # a second mention: a second notification
    await room.drain()
    await server.app.state.search.flush()
    assert len([n for n in (await inbox(server, bea))["items"] if n["kind"] == "mention"]) == 2

    async with server.client() as owner:  # exported as the username, as typed
        markdown = (await owner.get(f"/api/docs/{doc_id}/export.md")).text
    assert "Numbers by @bea" in markdown


async def test_an_unchanged_text_costs_no_queries_for_its_mentions(server):
    """Each index pass reads the text's mentions; people mentioned no more often than last
    time are not looked up again (no query about their account or their access)."""
    from pycrdt import XmlElement, XmlFragment, XmlText
    from sqlalchemy import event

    doc_id = await seeded(server, "Quiet.")
    await person(server, "bea", invite="viewer", doc_id=doc_id)
    bea_id = (await asyncio.to_thread(accounts.get_user_by_username, server.engine,
                                      username="bea")).id
    room = await server.rooms.with_room(doc_id)
    with room.doc.transaction():
        paragraph = room.doc.get("default", type=XmlFragment).children.append(XmlElement("paragraph"))
        paragraph.children.append(XmlText("Hi "))
        paragraph.children.append(XmlElement("mention", {"id": bea_id, "label": "Bea"}))
    await room.drain()
    await server.app.state.search.flush()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(server.engine, "before_cursor_execute", seen)
    try:
        with room.doc.transaction():  # a change elsewhere: the mention count stays the same
            paragraph.children.append(XmlText(" there"))
        await room.drain()
        await server.app.state.search.flush()
    finally:
        event.remove(server.engine, "before_cursor_execute", seen)
    assert statements, "the index pass ran"
    assert not [s for s in statements if "FROM share" in s or "FROM notification" in s]
