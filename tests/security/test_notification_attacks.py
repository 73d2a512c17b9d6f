"""Notifications under attack, against a real `quire serve` with the /healthz probe (issue 16).

| attack                                                  | answer                                   |
|---------------------------------------------------------|------------------------------------------|
| a comment naming one person 1,000 times, and 20+ people | one notification each, at most 20 people |
| mentions of people who cannot read the document         | nobody outside is told                   |
| marking 501 ids, others' ids, junk ids read             | 422, or nothing of others' changes       |
| one account opening 40 live counters                    | 16 served, the rest 429; all close clean |
| forged, overlong or control-character unsubscribe links | 400/422, nobody unsubscribed             |
| an email address carrying a header (CR LF, <, >)        | 422                                      |

After every attack the server answers, and the document as the owner reads it is unchanged by
anything but the comments the attack itself made.
"""

from __future__ import annotations

import asyncio
import urllib.parse

import httpx

from tests.security.conftest import ROLES


async def inbox(quire, role: str) -> dict:
    async with quire.client(role) as client:
        response = await client.get("/api/notifications", params={"limit": 100})
        assert response.status_code == 200, response.text
        return response.json()


async def eventually_count(quire, role: str, kind: str, want: int) -> list[dict]:
    found: list[dict] = []
    for _ in range(100):
        found = [n for n in (await inbox(quire, role))["items"] if n["kind"] == kind]
        if len(found) >= want:
            break
        await asyncio.sleep(0.05)
    return found


async def test_a_flood_of_mentions_is_one_notification_per_person(quire):
    doc = await quire.new_doc()
    viewer = quire.cast["viewer"].username
    before = [n["id"] for n in (await inbox(quire, "viewer"))["items"]]
    names = " ".join(f"@nobody{i}" for i in range(40))
    body = (f"@{viewer} " * 1000)[:9000] + names
    async with quire.probe(), quire.client("commenter") as client:
        response = await client.post(f"/api/docs/{doc}/comments",
                                     json={"quote": "first paragraph", "body": body})
        assert response.status_code == 201, response.text
    mentions = await eventually_count(quire, "viewer", "mention", 1)
    await asyncio.sleep(0.3)
    mentions = [n for n in (await inbox(quire, "viewer"))["items"]
                if n["kind"] == "mention" and n["id"] not in before]
    assert len(mentions) == 1
    assert len(mentions[0]["excerpt"]) <= 300  # quoted, not the whole flood


async def test_nobody_outside_the_document_hears_of_it(quire):
    doc = await quire.new_doc()
    async with httpx.AsyncClient(base_url=quire.http, timeout=10) as stranger:
        response = await stranger.post("/api/auth/signup", json={
            "username": "stranger-notify", "password": "long enough pw"})
        assert response.status_code == 201, response.text
        me = response.json()
        before = await quire.owner_view(doc)
        async with quire.probe(), quire.client("editor") as client:
            response = await client.post(f"/api/docs/{doc}/comments", json={
                "quote": "first paragraph", "body": f"@{me['username']} have a look"})
            assert response.status_code == 201
        await asyncio.sleep(0.5)
        assert (await stranger.get("/api/notifications")).json() == {"items": [], "unread": 0}
        after = await quire.owner_view(doc)
    assert after["content"]["text"] == before["content"]["text"]  # a comment marks, never edits


async def test_marking_read_takes_only_ones_own_and_bounded(quire):
    doc = await quire.new_doc()
    async with quire.client("owner") as client:
        await client.post(f"/api/docs/{doc}/comments", json={
            "quote": "first paragraph", "body": f"@{quire.cast['editor'].username} hi"})
    editor_items = await eventually_count(quire, "editor", "mention", 1)
    async with quire.probe(), quire.client("viewer") as attacker:
        for body in ({"ids": list(range(501))}, {"ids": ["x"]}, {"ids": [1], "all": True},
                     {"all": "yes"}, {}, {"ids": [-1, 2**70]}):
            response = await attacker.post("/api/notifications/read", json=body)
            assert response.status_code == 422, (body, response.text)
        response = await attacker.post("/api/notifications/read",
                                       json={"ids": [n["id"] for n in editor_items]})
        assert response.status_code == 200
    still = {n["id"]: n["read"] for n in (await inbox(quire, "editor"))["items"]}
    assert all(not still[n["id"]] for n in editor_items)


async def test_an_account_cannot_hold_endless_live_counters(quire):
    async with quire.probe():
        async with httpx.AsyncClient(base_url=quire.http, timeout=10,
                                     headers=quire.cast["viewer"].headers) as client:
            streams = []
            statuses = []
            try:
                for _ in range(40):
                    context = client.stream("GET", "/api/notifications/stream")
                    response = await context.__aenter__()
                    statuses.append(response.status_code)
                    streams.append(context)
            finally:
                for context in streams:
                    await context.__aexit__(None, None, None)
            assert statuses.count(200) == 16 and statuses.count(429) == 24, statuses
        await asyncio.sleep(0.5)  # closed streams are given back: a new one is served
        async with httpx.AsyncClient(base_url=quire.http, timeout=10,
                                     headers=quire.cast["viewer"].headers) as client:
            async with client.stream("GET", "/api/notifications/stream") as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        break


async def test_forged_unsubscribe_links_unsubscribe_nobody(quire):
    user_id = quire.cast["editor"].user_id
    hostile = [
        {"u": user_id, "s": "0" * 64},
        {"u": user_id, "s": ""},
        {"u": "x" * 65, "s": "0" * 64},
        {"u": user_id + "\x00", "s": "a" * 64},
        {"u": "../../etc/passwd", "s": "ä" * 64},
        {"u": user_id, "s": "f" * 129},
    ]
    async with quire.probe(), httpx.AsyncClient(base_url=quire.http) as anyone:
        for params in hostile:
            query = urllib.parse.urlencode(params)
            for method in ("GET", "POST"):
                response = await anyone.request(method, f"/unsubscribe?{query}")
                assert response.status_code in (400, 422), (params, method, response.status_code)
    async with quire.client("editor") as client:
        settings = (await client.get("/api/notifications/settings")).json()
    assert settings["email_notifications"] == "all"


async def test_an_email_address_cannot_carry_a_header(quire):
    async with quire.probe(), quire.client("commenter") as client:
        for bad in ("a@b.cd\r\nBcc: all@corp.example", "A <a@b.cd>", "a@b.cd, c@d.ef",
                    "x" * 300 + "@b.cd", "\x00@b.cd", "a@b"):
            response = await client.put("/api/notifications/settings", json={"email": bad})
            assert response.status_code == 422, bad
    assert set(ROLES) >= {"commenter"}
