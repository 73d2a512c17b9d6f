"""Automatic versions with several processes (issue 19, item 7), two real servers sharing a
database and Redis.

| situation                                                    | expected                         |
|--------------------------------------------------------------|----------------------------------|
| Ada types on process one, Bo on process two, then both pause | one automatic version, holding   |
|                                                              | both edits and naming both       |
| Bo's process is the only one whose clients type; Ada's       | Bo's process cuts it; Ada's only |
| process holds the document too                               | confirms it (no second version)  |
"""

from __future__ import annotations

import asyncio
import contextlib

import pytest
from pycrdt import Text

from crdt.versions import doc_from_parts
from server.config import Settings
from storage import versions as store
from tests.support.servers import run_server
from tests.support.services import require_redis, run_prefix
from tests.support.yclient import eventually, joined

QUIET = 0.4
METRICS_TOKEN = "metrics-test-token"


@pytest.fixture
def redis_url() -> str:
    return require_redis()


@contextlib.asynccontextmanager
async def pair(db_url: str, redis_url: str):
    prefix = run_prefix()
    async with contextlib.AsyncExitStack() as stack:
        servers = []
        for _ in range(2):
            settings = Settings(database_url=db_url, redis_url=redis_url, redis_prefix=prefix,
                                unload_after=30, metrics_token=METRICS_TOKEN,
                                version_quiet_seconds=QUIET, version_retention="")
            servers.append(await stack.enter_async_context(run_server(settings)))
        for server in servers:
            await eventually(lambda s=server: s.app.state.relay.connected, timeout=5)
        yield servers


def _versions(server, doc_id: str):
    return store.list_versions(server.app.state.engine, doc_id=doc_id)[0]


def _text_of_version(server, doc_id: str, version_id: int) -> str:
    parts = store.load_version(server.app.state.engine, doc_id=doc_id, version_id=version_id)
    assert parts is not None
    return str(doc_from_parts(parts).get("t", type=Text))


async def _bo(one, doc_id: str) -> tuple[str, str]:
    """A second person, Bo, editor of the document: (account id, API token)."""
    from storage.accounts import get_user_by_username
    from tests.support.accounts import make_account

    engine = one.app.state.engine
    username, token = await asyncio.to_thread(make_account, engine, "bo")
    async with one.client() as http:
        response = await http.post(f"/api/docs/{doc_id}/shares",
                                   json={"username": username, "role": "editor"})
        assert response.status_code in (200, 201), response.text
    user = await asyncio.to_thread(get_user_by_username, engine, username=username)
    assert user is not None
    return user.id, token


async def test_one_version_holds_both_processes_edits_and_names_both(db_url, redis_url):
    async with pair(db_url, redis_url) as (one, two):
        doc_id = await one.new_doc()
        bo_id, bo_token = await _bo(one, doc_id)
        ada = await joined(one, doc_id)
        bo = await joined(two, doc_id, token=bo_token)
        ada.doc.get("t", type=Text).insert(0, "Ada wrote. ")
        await bo.wait_until(lambda: str(bo.doc.get("t", type=Text)) == "Ada wrote. ")
        bo.doc.get("t", type=Text).insert(len("Ada wrote. "), "Bo wrote.")
        await ada.wait_until(lambda: str(ada.doc.get("t", type=Text)) == "Ada wrote. Bo wrote.")

        def newest_auto():
            autos = [v for v in _versions(one, doc_id) if v.kind == "auto"]
            return autos[0] if autos and len(autos[0].people) == 2 else None

        await eventually(lambda: newest_auto() is not None, timeout=10)
        await asyncio.sleep(QUIET * 4)  # both processes had their turn
        autos = [v for v in _versions(one, doc_id) if v.kind == "auto"]
        assert len(autos) == 1, [(v.id, v.authors) for v in autos]
        assert _text_of_version(one, doc_id, autos[0].id) == "Ada wrote. Bo wrote."
        assert {p["id"] for p in autos[0].people} == {await _user_id(one), bo_id}
        await ada.close()
        await bo.close()


async def test_edits_made_elsewhere_are_versioned_once(db_url, redis_url):
    async with pair(db_url, redis_url) as (one, two):
        doc_id = await one.new_doc()
        bo_id, bo_token = await _bo(one, doc_id)
        watcher = await joined(one, doc_id)  # process one holds it, its client never types
        bo = await joined(two, doc_id, token=bo_token)
        for n, word in enumerate(("one ", "two ", "three")):
            bo.doc.get("t", type=Text).insert(len("one two "[: 4 * n]), word)
            await asyncio.sleep(0.05)
        await watcher.wait_until(lambda: str(watcher.doc.get("t", type=Text)) == "one two three")
        await eventually(lambda: [v for v in _versions(one, doc_id) if v.kind == "auto"],
                         timeout=10)
        await asyncio.sleep(QUIET * 5)  # process one's own, later turn comes and goes
        autos = [v for v in _versions(one, doc_id) if v.kind == "auto"]
        assert len(autos) == 1
        assert _text_of_version(one, doc_id, autos[0].id) == "one two three"
        assert [p["id"] for p in autos[0].people] == [bo_id]
        await watcher.close()
        await bo.close()


async def _user_id(server) -> str:
    from storage.accounts import get_user_by_username

    user = await asyncio.to_thread(get_user_by_username, server.app.state.engine,
                                   username=server.username)
    assert user is not None
    return user.id
