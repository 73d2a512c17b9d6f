"""REST: documents CRUD, search, pagination, live title, deletion closing live sockets."""

from __future__ import annotations

import asyncio

from pycrdt import Map

from tests.support.yclient import YClient, eventually


async def test_crud_search_and_pagination(server_any_db):
    server = server_any_db
    async with server.client() as http:
        r = await http.post("/api/docs", json={"title": "White paper"})
        assert r.status_code == 201
        doc = r.json()
        assert set(doc) >= {"id", "title", "created_at", "updated_at", "online"}
        assert doc["created_at"].endswith("Z") or "+00:00" in doc["created_at"]
        tag = doc["id"][:6]
        ids = []
        for i in range(3):
            r = await http.post("/api/docs", json={"title": f"Report {tag} {i}"})
            ids.append(r.json()["id"])
        page = (await http.get("/api/docs", params={"q": f"report {tag}", "limit": 2})).json()
        assert page["total"] == 3
        assert [d["id"] for d in page["items"]] == [ids[2], ids[1]]  # newest first
        rest = (await http.get("/api/docs", params={"q": f"report {tag}", "limit": 2,
                                                     "offset": 2})).json()
        assert [d["id"] for d in rest["items"]] == [ids[0]]

        assert (await http.get(f"/api/docs/{doc['id']}")).json()["title"] == "White paper"
        r = await http.patch(f"/api/docs/{doc['id']}", json={"title": "Renamed"})
        assert r.status_code == 200 and r.json()["title"] == "Renamed"
        assert (await http.get(f"/api/docs/{doc['id']}")).json()["title"] == "Renamed"

        assert (await http.get("/api/docs/nope")).status_code == 404
        assert (await http.patch("/api/docs/nope", json={"title": "x"})).status_code == 404
        assert (await http.post("/api/docs", json={"title": ""})).status_code == 422
        assert (await http.post("/api/docs", json={"title": "x" * 501})).status_code == 422
        assert (await http.delete(f"/api/docs/{doc['id']}")).status_code == 204
        assert (await http.get(f"/api/docs/{doc['id']}")).status_code == 404
        assert (await http.delete(f"/api/docs/{doc['id']}")).status_code == 404


async def test_title_is_live_both_ways(server):
    doc_id = await server.new_doc("First title")
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    meta = client.doc.get("meta", type=Map)
    assert meta.get("title") == "First title"
    async with server.client() as http:
        # rename over REST -> the open editor sees it live
        await http.patch(f"/api/docs/{doc_id}", json={"title": "From REST"})
        await eventually(lambda: meta.get("title") == "From REST")
        # rename in the editor -> mirrored into the documents table (the dashboard)
        meta["title"] = "From the editor"

        async def listed() -> str:
            return (await http.get(f"/api/docs/{doc_id}")).json()["title"]

        for _ in range(100):
            if await listed() == "From the editor":
                break
            await asyncio.sleep(0.05)
        assert await listed() == "From the editor"
        assert (await http.get(f"/api/docs/{doc_id}")).json()["online"] == 1
    await client.close()


async def test_delete_closes_live_connections_terminally(server):
    doc_id = await server.new_doc()
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    async with server.client() as http:
        assert (await http.delete(f"/api/docs/{doc_id}")).status_code == 204
    await asyncio.wait_for(client.closed.wait(), 5)
    assert client.close_code == 4410
    again = YClient(server.ws(doc_id))
    await again.connect()
    await asyncio.wait_for(again.closed.wait(), 5)
    assert again.close_code == 4404


async def test_health_and_metrics(server):
    doc_id = await server.new_doc()
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    from pycrdt import Text

    client.doc.get("t", type=Text).insert(0, "counted")
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)
    async with server.client() as http:
        health = await http.get("/healthz")
        assert health.status_code == 200 and health.json()["database"] == "ok"
        assert (await http.get("/metrics")).status_code == 404  # not served: no token set
    server.settings.metrics_token = "metrics-test-token"
    async with server.client(token=None) as http:
        assert (await http.get("/metrics")).status_code == 401
        text = (await http.get("/metrics",
                               headers={"Authorization": "Bearer metrics-test-token"})).text
    for name in ("quire_open_rooms 1.0", "quire_connections 1.0", "quire_updates_persisted_total",
                 "quire_persist_seconds_bucket", "quire_bytes_in_total", "quire_frames_rejected",
                 "quire_opens_asked_total 1.0", "quire_open_visits_total 1.0"):
        assert name in text
    await client.close()


async def test_a_document_that_cannot_be_opened_now_answers_503_not_500(server):
    """While the server stops, routes that need the live document say "try again" (503 with
    Retry-After) instead of failing with an internal error."""
    doc_id = await server.new_doc()
    await server.rooms.aclose()  # what shutdown does first
    async with server.client() as client:
        for path in (f"/api/docs/{doc_id}/export.md", f"/api/docs/{doc_id}/content"):
            response = await client.get(path)
            assert response.status_code == 503, (path, response.text)
            assert response.headers["retry-after"] == "1"
            assert "shutting down" in response.json()["detail"]


async def test_documents_sorted_and_filtered_by_whose(server):
    """The dashboard's sort (last edited, title, created) and "Shared with me" filter."""
    import asyncio as _asyncio

    from tests.support.accounts import make_account

    ids = {}
    for title in ("beta", "Alpha", "gamma"):
        ids[title] = await server.new_doc(title)
        await _asyncio.sleep(0.01)
    _, other_token = await _asyncio.to_thread(make_account, server.engine, "other")
    async with server.client(other_token) as client:
        theirs = (await client.post("/api/docs", json={"title": "Delta (theirs)"})).json()["id"]
        r = await client.post(f"/api/docs/{theirs}/shares", json={"username": server.username,
                                                                  "role": "viewer"})
        assert r.status_code == 201
    async with server.client() as client:
        async def titles(**params) -> list[str]:
            r = await client.get("/api/docs", params=params)
            assert r.status_code == 200, r.text
            return [d["title"] for d in r.json()["items"]]

        assert await titles(sort="title") == ["Alpha", "beta", "Delta (theirs)", "gamma"]
        assert await titles(sort="created") == ["Delta (theirs)", "gamma", "Alpha", "beta"]
        assert await titles(whose="shared") == ["Delta (theirs)"]
        assert sorted(await titles(whose="mine")) == ["Alpha", "beta", "gamma"]
        assert await titles(whose="shared", q="alp") == []
        for bad in ({"sort": "owner"}, {"whose": "everyone"}):
            assert (await client.get("/api/docs", params=bad)).status_code == 422
