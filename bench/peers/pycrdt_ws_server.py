"""pycrdt-websocket as a benchmark peer: its ASGI server under uvicorn, rooms in memory.

    python -m bench.peers.pycrdt_ws_server --host 127.0.0.1 --port 1234 [--deflate]

Any path is a room. Rooms are dropped when their last client leaves (its default), like the
reference Node server without persistence. permessage-deflate is off unless asked for, the
configuration a careful deployment would choose for small Yjs frames.
"""

from __future__ import annotations

import argparse
import asyncio
import logging

import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer, exception_logger


async def serve(host: str, port: int, deflate: bool) -> None:
    websocket_server = WebsocketServer(exception_handler=exception_logger)
    config = uvicorn.Config(
        ASGIServer(websocket_server), host=host, port=port, log_level="warning",
        ws_per_message_deflate=deflate, ws_max_size=64 * 1024 * 1024, backlog=4096,
    )
    async with websocket_server:
        await uvicorn.Server(config).serve()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1234)
    parser.add_argument("--deflate", action="store_true", help="accept permessage-deflate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(serve(args.host, args.port, args.deflate))


if __name__ == "__main__":
    main()
