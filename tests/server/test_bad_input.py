"""Bad input closes only the connection that sent it, with a named code; nothing else is hurt.

| what the client sends                         | what happens to that connection         |
|-----------------------------------------------|------------------------------------------|
| a text frame                                  | closed 1003 "text frames are not ..."    |
| an empty frame / unknown message type         | closed 1007                              |
| a sync frame with a truncated length varint   | closed 1007 "truncated length prefix"    |
| a length prefix longer than the payload       | closed 1007                              |
| bytes the CRDT decoder rejects as an update   | closed 1007 "update rejected by ..."     |
| awareness with invalid JSON                   | closed 1007                              |
| a frame over QUIRE_MAX_MESSAGE_BYTES          | closed 1009                              |
In every case the document is unchanged, the other client stays connected and keeps syncing.
"""

from __future__ import annotations

import asyncio

import pytest
from pycrdt import Text, write_var_uint

from server.config import Settings
from tests.support.servers import run_server
from tests.support.yclient import YClient, eventually

LIMIT = 64 * 1024

BAD_FRAMES = {
    "text frame": ("hello", 1003),
    "empty frame": (b"", 1007),
    "unknown message type": (b"\x07\x00", 1007),
    "unknown sync sub-type": (b"\x00\x09\x00", 1007),
    "truncated varint": (b"\x00\x02\xff\xff", 1007),
    "length beyond payload": (b"\x00\x02\x10abc", 1007),
    "garbage update": (b"\x00\x02" + write_var_uint(5) + b"\xff\xfe\xfd\xfc\xfb", 1007),
    "awareness bad json": (b"\x01" + write_var_uint(8) + b"\x01\x01\x01\x04{{{{", 1007),
    "too big": (b"\x00\x02" + write_var_uint(LIMIT + 10) + b"\x00" * (LIMIT + 10), 1009),
}


@pytest.fixture
async def small_server(sqlite_url):
    async with run_server(Settings(database_url=sqlite_url, max_message_bytes=LIMIT)) as live:
        yield live


@pytest.mark.parametrize("name", list(BAD_FRAMES))
async def test_bad_frame_closes_only_its_connection(small_server, name):
    server = small_server
    frame, code = BAD_FRAMES[name]
    doc_id = await server.new_doc()
    good = YClient(server.ws(doc_id))
    await good.connect()
    await good.wait_synced()
    text = good.doc.get("t", type=Text)
    text.insert(0, "before")
    await eventually(lambda: server.rooms.stats.updates_persisted >= 1)

    bad = YClient(server.ws(doc_id))
    await bad.connect()
    await bad.wait_synced()
    await bad.send_raw(frame)
    await asyncio.wait_for(bad.closed.wait(), 5)
    assert bad.close_code == code, (name, bad.close_code, bad.close_reason)
    assert bad.close_reason

    # the document, the other client and the server are unharmed and keep syncing
    assert not good.closed.is_set()
    text.insert(len(text), " after")
    observer = YClient(server.ws(doc_id))
    await observer.connect()
    await observer.wait_synced()
    await eventually(lambda: str(observer.doc.get("t", type=Text)) == "before after")
    assert str(server.rooms.open_room(doc_id).doc.get("t", type=Text)) == "before after"
    assert server.rooms.stats.frames_rejected == 1
    for client in (good, observer):
        await client.close()
