"""Version history through a real server: automatic, named and restored versions, their content
after compaction and restart, the REST API and the CLI."""

from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.compaction import merge_to_state
from crdt.versions import content_tree, doc_from_parts
from server.cli import main as cli_main
from server.config import Settings
from storage import updates as store_updates
from storage import versions as store_versions
from storage.models import utcnow
from tests.storage.test_versions import seed_versions
from tests.support.servers import run_server
from tests.support.yclient import YClient, eventually

NO_AUTO = {"version_quiet_seconds": 3600, "version_max_interval_seconds": 3600}


@asynccontextmanager
async def quire(db_url: str, **overrides):
    settings = Settings(database_url=db_url, unload_after=0.2, **{**NO_AUTO, **overrides})
    async with run_server(settings) as live, live.client() as http:
        yield live, http


async def join(live, doc_id: str, name: str | None = None) -> YClient:
    # a named person joins through a share link: without an account, the name is theirs to
    # choose (accounts always show under their own name)
    token = await live.link(doc_id, "editor") if name else ""
    client = YClient(live.ws(doc_id, token=token))
    if name:
        await client.set_user({"user": {"name": name, "color": "#336699"}})
    await client.connect()
    await client.wait_synced()
    return client


def fragment(client: YClient) -> XmlFragment:
    return client.doc.get("default", type=XmlFragment)


def paragraph(frag: XmlFragment, text: str = "", marks: dict | None = None) -> XmlText:
    element = frag.children.append(XmlElement("paragraph"))
    run = element.children.append(XmlText())
    if text:
        run.insert(0, text, marks or {})
    return run


async def server_has(live, doc_id: str, client: YClient) -> None:
    """Wait until the server's live copy equals the client's."""

    def same() -> bool:
        room = live.rooms.open_room(doc_id)
        return room is not None and content_tree(room.doc) == content_tree(client.doc)

    await eventually(same)


async def test_version_content_is_the_document_at_that_moment(db_url):
    """Named versions at several points of an editing session (edits, deletions, formatting,
    a rename) render exactly what the document was then — after compaction and a restart."""
    recorded: dict[int, dict] = {}
    async with quire(db_url, compact_every=4, version_checkpoint_every=3) as (live, http):
        doc_id = await live.new_doc("Proposal")
        ada = await join(live, doc_id, "Ada")
        frag = fragment(ada)
        steps = [
            lambda: paragraph(frag, "Quire keeps every version."),
            lambda: paragraph(frag, "bold words", {"bold": {}}),
            lambda: frag.children[0].children[0].insert(6, "really ", {"italic": {}}),
            lambda: frag.children.insert(0, XmlElement("heading", {"level": 2},
                                                       [XmlText("Intro")])),
            lambda: frag.children[1].children[0].__delitem__(slice(0, 6)),
            lambda: frag.children.__delitem__(2),
            lambda: paragraph(frag, "the end"),
        ]
        for i, step in enumerate(steps):
            step()
            if i == 3:
                assert (await http.patch(f"/api/docs/{doc_id}",
                                         json={"title": "Renamed"})).status_code == 200
            await server_has(live, doc_id, ada)
            r = await http.post(f"/api/docs/{doc_id}/versions", json={"name": f"point {i}"})
            assert r.status_code == 201, r.text
            version = r.json()
            assert version["kind"] == "named" and version["name"] == f"point {i}"
            content = (await http.get(f"/api/docs/{doc_id}/content")).json()
            title = (await http.get(f"/api/docs/{doc_id}")).json()["title"]
            recorded[version["id"]] = {**content, "title": title}
        assert recorded[max(recorded)]["text"].startswith("Intro")
        await ada.close()
        # unloaded: not only closing (open_room says None from then on) but done compacting
        await eventually(lambda: len(live.rooms) == 0)
        engine = live.app.state.engine
        # the log was compacted (every 4 updates and on unload): versions do not depend on it
        assert store_updates.log_length(engine, doc_id=doc_id) == 0
        stored = store_versions.list_versions(engine, doc_id=doc_id, limit=100)[0]
        assert any(not v.checkpoint for v in stored) and any(v.checkpoint for v in stored)

    async with quire(db_url) as (live, http):
        for version_id, expected in recorded.items():
            r = await http.get(f"/api/docs/{doc_id}/versions/{version_id}")
            assert r.status_code == 200, r.text
            body = r.json()
            assert body["json"] == expected["json"]
            assert body["text"] == expected["text"]
            assert body["title"] == expected["title"]
            assert body["markdown"].strip()
            # the diff turns the current text into the version's text
            assert "".join(t for op, t in body["diff"] if op != "-") == expected["text"]


async def test_restore_with_two_clients_connected(server):
    live = server
    async with live.client() as http:
        doc_id = await live.new_doc("Contract")
        ada, bob = await join(live, doc_id, "Ada"), await join(live, doc_id, "Bob")
        paragraph(fragment(ada), "Original clause one.")
        paragraph(fragment(ada), "Original clause two.", {"bold": {}})
        await server_has(live, doc_id, bob)
        await server_has(live, doc_id, ada)
        sent = (await http.post(f"/api/docs/{doc_id}/versions",
                                json={"name": "Sent to legal"})).json()
        sent_content = (await http.get(f"/api/docs/{doc_id}/content")).json()

        # both keep editing
        first = fragment(bob).children[0].children[0]
        del first[0:9]
        first.insert(0, "Changed ")
        fragment(bob).children.insert(0, XmlElement("heading", {"level": 1},
                                                    [XmlText("New heading")]))
        paragraph(fragment(ada), "A third clause.")
        await server_has(live, doc_id, ada)
        await server_has(live, doc_id, bob)
        await eventually(lambda: content_tree(ada.doc) == content_tree(bob.doc))
        edited = (await http.get(f"/api/docs/{doc_id}/content")).json()
        assert edited != sent_content

        r = await http.post(f"/api/docs/{doc_id}/versions/{sent['id']}/restore")
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["restored"]["kind"] == "restore"
        assert "Sent to legal" in result["restored"]["name"]
        assert result["before"]["kind"] == "auto" and "Sent to legal" in result["before"]["name"]

        # everyone converges to the version at once, and the server and the store agree
        target = (await http.get(f"/api/docs/{doc_id}/versions/{sent['id']}")).json()
        assert target["json"] == sent_content["json"]
        room = live.rooms.open_room(doc_id)
        for client in (ada, bob):
            await eventually(lambda c=client: content_tree(c.doc) == content_tree(room.doc))
        assert (await http.get(f"/api/docs/{doc_id}/content")).json() == sent_content
        stored = Doc()
        stored.apply_update(merge_to_state(await live.rooms.store.load(doc_id)))
        assert content_tree(stored) == content_tree(room.doc)
        restored_version = (await http.get(
            f"/api/docs/{doc_id}/versions/{result['restored']['id']}")).json()
        assert restored_version["json"] == sent_content["json"]
        assert all(op == "=" for op, _ in restored_version["diff"])

        # nobody's session broke: both still connected and still editing together
        assert not ada.closed.is_set() and not bob.closed.is_set()
        paragraph(fragment(ada), "Typed after the restore.")
        await eventually(lambda: "Typed after the restore." in str(fragment(bob)))

        # restoring the "before" version brings the edited text back
        r = await http.post(f"/api/docs/{doc_id}/versions/{result['before']['id']}/restore")
        assert r.status_code == 200
        assert (await http.get(f"/api/docs/{doc_id}/content")).json()["json"] == edited["json"]
        await eventually(lambda: "Changed clause one." in str(fragment(ada)))
        await eventually(lambda: content_tree(ada.doc) == content_tree(bob.doc))
        await ada.close()
        await bob.close()


async def test_restore_with_nobody_connected_is_stored(server):
    live = server
    async with live.client() as http:
        doc_id = await live.new_doc("Alone")
        ada = await join(live, doc_id, "Ada")
        run = paragraph(fragment(ada), "first draft")
        await server_has(live, doc_id, ada)
        draft = (await http.post(f"/api/docs/{doc_id}/versions", json={"name": "draft"})).json()
        draft_json = (await http.get(f"/api/docs/{doc_id}/content")).json()["json"]
        run.insert(len(run), " rewritten")
        await server_has(live, doc_id, ada)
        await ada.close()
        await eventually(lambda: live.rooms.open_room(doc_id) is None)
        r = await http.post(f"/api/docs/{doc_id}/versions/{draft['id']}/restore")
        assert r.status_code == 200
        await eventually(lambda: live.rooms.open_room(doc_id) is None)  # unloaded again
        stored = Doc()
        stored.apply_update(merge_to_state(await live.rooms.store.load(doc_id)))
        _, version = await live.app.state.versions.load(doc_id, draft["id"])
        assert content_tree(stored) == content_tree(version)
        assert (await http.get(f"/api/docs/{doc_id}/content")).json()["json"] == draft_json
        kinds = [(v["kind"], v["name"]) for v in
                 (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"]]
        assert kinds == [("restore", "Restored from “draft”"),
                         ("auto", "Before restoring “draft”"),
                         ("auto", None),  # when Ada left
                         ("named", "draft")]


async def test_automatic_version_when_the_last_person_leaves(server):
    live = server
    async with live.client() as http:
        doc_id = await live.new_doc("Notes")
        ada, bob = await join(live, doc_id, "Ada"), await join(live, doc_id, "Bob")
        paragraph(fragment(ada), "from Ada")
        paragraph(fragment(bob), "from Bob")
        await server_has(live, doc_id, ada)
        await server_has(live, doc_id, bob)
        expected = (await http.get(f"/api/docs/{doc_id}/content")).json()
        assert (await http.get(f"/api/docs/{doc_id}/versions")).json()["total"] == 0
        await ada.close()
        await bob.close()

        async def versions() -> dict:
            return (await http.get(f"/api/docs/{doc_id}/versions")).json()

        for _ in range(200):
            if (await versions())["total"]:
                break
            await asyncio.sleep(0.02)
        page = await versions()
        assert page["total"] == 1
        version = page["items"][0]
        assert version["kind"] == "auto" and version["name"] is None
        assert sorted(version["authors"]) == ["Ada", "Bob"]
        assert version["size"] > 0
        assert all(p["id"].startswith("link:") and p["username"] is None
                   for p in version["people"])
        body = (await http.get(f"/api/docs/{doc_id}/versions/{version['id']}")).json()
        assert body["json"] == expected["json"]


async def test_authors_of_the_same_display_name_are_told_apart(server):
    """Two accounts named "Alex Kim" edit: the version lists two people, by account id and
    username; older rows (names only) still read."""
    from server.security import PERSONAL_PREFIX, new_token, token_hash
    from storage import accounts
    from tests.support.accounts import password_hash

    live = server
    async with live.client() as http:
        doc_id = await live.new_doc("Twins")
        clients, users = [], []
        for username in ("alexk", "alexk2"):
            user = accounts.create_user(live.engine, username=username, display_name="Alex Kim",
                                        password_hash=password_hash())
            token = new_token(PERSONAL_PREFIX)
            accounts.add_api_token(live.engine, user_id=user.id, token_hash=token_hash(token),
                                   name="tests")
            r = await http.post(f"/api/docs/{doc_id}/shares",
                                json={"username": username, "role": "editor"})
            assert r.status_code == 201
            client = YClient(live.ws(doc_id, token=token))
            await client.set_user({"user": {"name": "Alex Kim", "color": "#336699"}})
            await client.connect()
            await client.wait_synced()
            paragraph(fragment(client), f"from {username}")
            await server_has(live, doc_id, client)
            clients.append(client)
            users.append(user)
        r = await http.post(f"/api/docs/{doc_id}/versions", json={"name": "both"})
        assert r.status_code == 201
        for client in clients:
            await client.close()
        version = r.json()
        assert version["authors"] == ["Alex Kim", "Alex Kim"]
        assert sorted((p["id"], p["username"]) for p in version["people"]) == sorted(
            (u.id, u.username) for u in users)
        listed = (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"][0]
        assert listed["people"] == version["people"]

        store_versions.add_version(live.engine, doc_id=doc_id, state=b"\x00\x00",
                                   authors=["Old Name"])  # a row from before
        old = (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"][0]
        assert (old["authors"], old["people"]) == (
            ["Old Name"], [{"id": None, "name": "Old Name", "username": None}])


async def test_automatic_versions_after_a_pause_and_during_long_editing(sqlite_url):
    async with quire(sqlite_url, version_quiet_seconds=0.2,
                     version_max_interval_seconds=0.6) as (live, http):
        doc_id = await live.new_doc()
        ada = await join(live, doc_id, "Ada")
        run = paragraph(fragment(ada), "burst")

        async def total() -> int:
            return (await http.get(f"/api/docs/{doc_id}/versions")).json()["total"]

        await asyncio.sleep(0.4)  # a pause: one version, nobody left
        assert await total() == 1
        # keep typing without pausing for longer than the maximum interval
        started = time.monotonic()
        while time.monotonic() - started < 0.9:
            run.insert(len(run), "x")
            await asyncio.sleep(0.05)
        assert await total() >= 2
        assert (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"][0][
            "authors"] == ["Ada"]
        await ada.close()


async def test_named_versions_api(server):
    live = server
    async with live.client() as http:
        doc_id = await live.new_doc()
        base = f"/api/docs/{doc_id}/versions"
        assert (await http.post(base, json={"name": "  "})).status_code == 422
        assert (await http.post(base, json={"name": "x" * 201})).status_code == 422
        assert (await http.post("/api/docs/nope/versions", json={"name": "a"})).status_code == 404
        assert (await http.get("/api/docs/nope/versions")).status_code == 404
        assert (await http.get(f"{base}/999999")).status_code == 404
        assert (await http.post(f"{base}/999999/restore")).status_code == 404
        ids = []
        for i in range(5):
            r = await http.post(base, json={"name": f"  Draft {i} "})
            assert r.status_code == 201
            body = r.json()
            assert set(body) == {"id", "created_at", "name", "authors", "people", "size",
                                 "kind"}
            assert body["name"] == f"Draft {i}" and body["kind"] == "named"
            ids.append(body["id"])
        page = (await http.get(base, params={"limit": 2})).json()
        assert page["total"] == 5 and [v["id"] for v in page["items"]] == ids[::-1][:2]
        rest = (await http.get(base, params={"limit": 2, "offset": 4})).json()
        assert [v["id"] for v in rest["items"]] == [ids[0]]
        # another document's version is not reachable through this one
        other = await live.new_doc()
        assert (await http.get(f"/api/docs/{other}/versions/{ids[0]}")).status_code == 404
        # deleting the document deletes its versions
        assert (await http.delete(f"/api/docs/{doc_id}")).status_code == 204
        engine = live.app.state.engine
        assert store_versions.list_versions(engine, doc_id=doc_id)[1] == 0


async def test_retention_thins_automatic_versions_and_keeps_named_ones(server):
    live = server
    keeper = live.app.state.versions
    async with live.client() as http:
        doc_id = await live.new_doc()
        ada = await join(live, doc_id, "Ada")
        run = paragraph(fragment(ada))
        contents = {}
        for i in range(8):
            run.insert(len(run), f"{i} ")
            await server_has(live, doc_id, ada)
            kind, name = ("named", f"milestone {i}") if i % 4 == 1 else ("auto", None)
            info = await keeper.take(doc_id, kind=kind, name=name)
            contents[info.id] = (await http.get(f"/api/docs/{doc_id}/content")).json()["json"]
        items = (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"]
        named = {v["id"] for v in items if v["kind"] == "named"}
        # a week later, every automatic version of that hour but the newest goes
        removed = await keeper.prune(doc_id, now=utcnow() + timedelta(days=8))
        items = (await http.get(f"/api/docs/{doc_id}/versions")).json()["items"]
        left = {v["id"] for v in items}
        assert removed == 8 - len(named) - 1
        assert named <= left and max(contents) in left and len(left) == len(named) + 1
        for version_id in left:  # what is left still renders exactly
            body = (await http.get(f"/api/docs/{doc_id}/versions/{version_id}")).json()
            assert body["json"] == contents[version_id]
        await ada.close()


async def test_thousand_versions_list_and_render(server, capsys):
    """1,000 versions: listing pages and rendering versions stays fast (measured, printed)."""
    live = server
    engine = live.app.state.engine
    doc_id = await live.new_doc()
    started = time.perf_counter()
    doc = await asyncio.to_thread(seed_versions, engine, doc_id, 1000)
    built = time.perf_counter() - started
    async with live.client() as http:
        base = f"/api/docs/{doc_id}/versions"
        timings = {}
        for label, offset in (("first page", 0), ("middle page", 500), ("last page", 950)):
            started = time.perf_counter()
            page = (await http.get(base, params={"limit": 50, "offset": offset})).json()
            timings[f"list {label}"] = time.perf_counter() - started
            assert page["total"] == 1000 and len(page["items"]) == 50
        ids = [v["id"] for v in (await http.get(base, params={"limit": 200})).json()["items"]]
        await http.get(f"/api/docs/{doc_id}/content")  # the live room is loaded: not timed
        # seeded chains hold 50 versions: ids[49] is a checkpoint, ids[0] its 49th delta
        for label, version_id in (("checkpoint", ids[49]), ("checkpoint+24 deltas", ids[25]),
                                  ("checkpoint+49 deltas", ids[0])):
            started = time.perf_counter()
            r = await http.get(f"{base}/{version_id}")
            timings[f"render {label}"] = time.perf_counter() - started
            assert r.status_code == 200
        parts = store_versions.load_version(engine, doc_id=doc_id, version_id=ids[0])
        assert content_tree(doc_from_parts(parts)) == content_tree(doc)
    stored = store_versions.storage_bytes(engine, doc_id=doc_id)
    with capsys.disabled():
        print(f"\n1,000 versions via the API (SQLite): seeded in {built:.2f}s, "
              f"{stored / 1024:.0f} KiB (final state {len(doc.get_update()) / 1024:.0f} KiB); "
              + ", ".join(f"{k} {v * 1000:.1f} ms" for k, v in timings.items()))


def test_cli_lists_versions(sqlite_url, capsys):
    from storage.db import make_engine
    from storage.documents import create_document

    engine = make_engine(sqlite_url)
    doc_id = create_document(engine, title="cli").id
    store_versions.add_version(engine, doc_id=doc_id, state=b"\x00\x00", kind="named",
                               name="Sent to legal", authors=["Ada", "Bob"])
    store_versions.add_version(engine, doc_id=doc_id, state=b"\x00\x00", authors=["Ada"])
    engine.dispose()
    cli_main(["versions", doc_id, "--database-url", sqlite_url])
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["ID", "CREATED", "(UTC)", "KIND"]
    assert "auto" in out[1] and "Ada" in out[1]
    assert "named" in out[2] and "Ada, Bob  Sent to legal" in out[2]
    assert out[-1] == "2 version(s)"


def test_retention_setting():
    from server.versions import parse_retention
    from storage.versions import Tier

    assert parse_retention("1d:1h, 7d:1d,90d:1w") == [
        Tier(86400, 3600), Tier(7 * 86400, 86400), Tier(90 * 86400, 7 * 86400)]
    assert parse_retention("") == []
    for bad in ("1d", "1x:1h", "d:1h"):
        with pytest.raises(ValueError):
            parse_retention(bad)
