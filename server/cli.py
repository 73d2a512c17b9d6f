"""The `quire` command: `quire serve` (more subcommands join as features land)."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

import uvicorn

from server.config import Settings

log = logging.getLogger("quire")


def setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )


class QuireServer(uvicorn.Server):
    """On SIGTERM/SIGINT: persist and compact every open room and close its sockets with 1001
    *before* uvicorn tears connections down, so clients reconnect to the restarted server."""

    async def shutdown(self, sockets=None) -> None:
        rooms = getattr(self.config.loaded_app_state, "rooms", None)
        if rooms is not None:
            try:
                await asyncio.wait_for(rooms.aclose(), timeout=20)
            except Exception:
                log.exception("graceful room shutdown failed")
        await super().shutdown(sockets)


def serve(args: argparse.Namespace) -> None:
    overrides = {k: v for k, v in {"host": args.host, "port": args.port,
                                    "database_url": args.database_url}.items() if v is not None}
    settings = Settings(**overrides)
    setup_logging(settings.log_level)
    from server.app import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        ws="websockets-sansio",
        ws_max_size=settings.max_message_bytes + 1024 * 1024,
        ws_per_message_deflate=settings.ws_per_message_deflate,
        lifespan="on",
        timeout_graceful_shutdown=10,
    )
    config.loaded_app_state = app.state  # type: ignore[attr-defined]
    QuireServer(config).run()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quire", description="Quire collaborative editor")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="start the server")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--database-url", default=None)
    p.set_defaults(func=serve)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
