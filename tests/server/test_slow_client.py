"""A client that stops reading never holds the others up: frames for it queue (written at once
only while its socket can take them), and past the backlog limit it is disconnected."""

from __future__ import annotations

import asyncio
import socket

import websockets
from pycrdt import Doc, Text, create_sync_message

from server.config import Settings
from tests.support.servers import run_server
from tests.support.yclient import YClient, eventually


async def test_a_stalled_reader_is_dropped_and_the_others_keep_up(sqlite_url):
    settings = Settings(database_url=sqlite_url, max_backlog_bytes=512 * 1024,
                        max_message_bytes=1024 * 1024)
    async with run_server(settings) as server:
        doc_id = await server.new_doc()
        writer = YClient(server.ws(doc_id))
        await writer.connect()
        await writer.wait_synced()
        reader = YClient(server.ws(doc_id))
        await reader.connect()
        await reader.wait_synced()
        # joins, then stops reading: its client buffers at most one frame, its socket little
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect(("127.0.0.1", server.port))
        sock.setblocking(False)
        stalled = await websockets.connect(server.ws(doc_id), sock=sock, max_queue=1,
                                           compression=None, max_size=None, close_timeout=0.2)
        await stalled.send(create_sync_message(Doc()))
        await eventually(lambda: len(server.rooms.open_room(doc_id).connections) == 3)

        text = writer.doc.get("t", type=Text)
        chunk = "x" * 512 * 1024
        for _ in range(16):  # 8 MiB in all, far past what the sockets and backlog hold
            text.insert(len(text), chunk)
            await asyncio.sleep(0)
        await eventually(lambda: len(str(reader.doc.get("t", type=Text))) == len(str(text)),
                         timeout=30)
        room = server.rooms.open_room(doc_id)
        await eventually(lambda: len(room.connections) == 2, timeout=10)  # the stalled one left
        assert str(room.doc.get("t", type=Text)) == str(text)
        await stalled.close()
        await writer.close()
        await reader.close()
