"""The floor: what a Python relay costs with nothing but the relay in it.

    python -m bench.peers.floor_relay --host 127.0.0.1 --port 1234 [--hold-ms 0.4]

A reference for reading the other figures, not a peer anyone would deploy: each room is a pycrdt
`Doc` and `Awareness` in memory (dropped when its last client leaves, like the Node reference
without persistence), served by Quire's own socket layer (`server/websocket_protocol.py`:
messages handed over as read, frames written at once) with no persistence, no access checks,
no validation, no limits. Quire minus everything that makes it Quire. Where Quire's figure sits
next to this one, the rest of the time is the machine's and the load generator's, and no server
written in Python could take it away. Opt-in: `--servers quire-sqlite,floor,y-websocket-server`.

`--hold-ms` keeps the CPU busy that long before each broadcast, standing in for a commit (the
bench's `floor-hold` runs it with 0.4 ms, about what Quire's commit takes on the loop when a
keystroke finds the process idle): the difference between `floor` and `floor-hold` is what
storing every update before anyone sees it costs on the wire.
"""

from __future__ import annotations

import argparse
import logging
import time

import uvicorn
from pycrdt import (
    Awareness,
    Doc,
    YMessageType,
    create_sync_message,
    create_update_message,
    handle_sync_message,
    read_message,
)

from crdt import protocol
from server.websocket_protocol import ON_MESSAGE, SEND_NOWAIT, WebSocketProtocol

HOLD_SECONDS = 0.0  # --hold-ms


class Room:
    def __init__(self) -> None:
        self.doc = Doc()
        self.awareness = Awareness(self.doc)
        self.awareness.set_local_state(None)
        self.clients: dict[object, set[int]] = {}  # send_nowait -> the awareness ids it set
        self.sender: object = None
        self.doc.observe(self._on_update)
        self.awareness.observe(self._on_awareness)

    def _on_awareness(self, topic: str, payload) -> None:
        changes, origin = payload
        ids = self.clients.get(origin)
        if topic == "update" and ids is not None:
            ids.update(changes["added"], changes["updated"])
            ids.difference_update(changes["removed"])

    def _on_update(self, event) -> None:
        if HOLD_SECONDS:
            until = time.perf_counter() + HOLD_SECONDS
            while time.perf_counter() < until:
                pass
        message = create_update_message(event.update)
        for send in self.clients:
            if send is not self.sender:
                send(message)

    def handle(self, send, message: bytes) -> None:
        if message[0] == YMessageType.SYNC:
            self.sender = send
            try:
                reply = handle_sync_message(message[1:], self.doc)
            finally:
                self.sender = None
            if reply is not None:
                send(reply)
        elif message[0] == YMessageType.AWARENESS:
            self.awareness.apply_awareness_update(read_message(message[1:]), send)
            for other in self.clients:
                if other is not send:
                    other(message)
        elif message[0] == 3:  # query awareness
            send(self.awareness_message(list(self.awareness.states)))

    def awareness_message(self, client_ids: list[int]) -> bytes:
        return protocol.awareness_message(protocol.encode_awareness_update(
            protocol.awareness_entries(self.awareness, client_ids)))

    def leave(self, send) -> None:
        gone = sorted(self.clients.pop(send))
        if gone:
            self.awareness.remove_awareness_states(gone, None)
            message = self.awareness_message(gone)
            for other in self.clients:
                other(message)


rooms: dict[str, Room] = {}


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":
        return
    await receive()
    await send({"type": "websocket.accept"})
    room = rooms.get(scope["path"]) or rooms.setdefault(scope["path"], Room())
    send_now = scope["extensions"][SEND_NOWAIT]
    room.clients[send_now] = set()
    send_now(create_sync_message(room.doc))
    if room.awareness.states:
        send_now(room.awareness_message(list(room.awareness.states)))
    scope["extensions"][ON_MESSAGE](lambda message: room.handle(send_now, message))
    try:
        while (await receive())["type"] != "websocket.disconnect":
            pass
    finally:
        scope["extensions"][ON_MESSAGE](None)
        room.leave(send_now)
        if not room.clients:
            rooms.pop(scope["path"], None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--hold-ms", type=float, default=0.0,
                        help="busy time before each broadcast, standing in for a commit")
    args = parser.parse_args()
    global HOLD_SECONDS
    HOLD_SECONDS = args.hold_ms / 1000
    logging.basicConfig(level=logging.WARNING)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", ws=WebSocketProtocol,
                ws_per_message_deflate=False, ws_max_size=64 * 1024 * 1024, backlog=4096)


if __name__ == "__main__":
    main()
