"""create_app(settings): wires storage, the room registry and the routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from crdt.rooms import Rooms
from server.config import Settings
from server.metrics import make_registry
from server.relay import RedisRelay
from server.routes import comments, documents, markdown, ops
from server.routes import versions as versions_routes
from server.titles import TitleMirror
from server.versions import VersionKeeper, parse_retention
from server.ws import router as ws_router
from storage.db import make_engine
from storage.store import SqlStore

log = logging.getLogger("quire.app")
FRONTEND = Path(__file__).resolve().parent.parent / "frontend"


@asynccontextmanager
async def lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.db_busy_timeout_ms)
    async with SqlStore(engine) as store:
        rooms = Rooms(
            store,
            unload_after=settings.unload_after,
            compact_every=settings.compact_every,
            max_backlog=settings.max_backlog_bytes,
        )
        titles = TitleMirror(engine)
        rooms.room_observers.append(titles.watch)
        keeper = VersionKeeper(
            engine, rooms,
            quiet=settings.version_quiet_seconds,
            max_interval=settings.version_max_interval_seconds,
            checkpoint_every=settings.version_checkpoint_every,
            retention=parse_retention(settings.version_retention),
        )
        keeper.attach()
        app.state.versions = keeper
        app.state.engine = engine
        app.state.rooms = rooms
        titles_task = asyncio.create_task(titles.run(), name="quire-titles")
        versions_task = asyncio.create_task(keeper.run(), name="quire-versions")
        relay = None
        if settings.redis_url:
            relay = RedisRelay(settings.redis_url, rooms, store, prefix=settings.redis_prefix)
            rooms.room_observers.append(relay.watch)
            relay_task = asyncio.create_task(relay.run(), name="quire-relay")
        app.state.relay = relay
        app.state.metrics = make_registry(rooms, relay)
        log.info("quire ready (database %s)", engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            await rooms.aclose()  # takes the last versions (unload observers)
            versions_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await versions_task
            await titles.flush()
            for task in (titles_task, relay_task if relay else None):
                if task is None:
                    continue
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
    engine.dispose()


def create_app(settings: Settings | None = None) -> FastAPI:
    app = FastAPI(title="Quire", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings or Settings()
    app.include_router(ops.router)
    app.include_router(documents.router)
    app.include_router(comments.router)
    app.include_router(markdown.router)
    app.include_router(versions_routes.router)
    app.include_router(ws_router)
    try:
        from server.routes import pages
    except ImportError:  # the editor pages are optional for API-only use and tests
        pages = None
    if pages is not None:
        app.include_router(pages.router)
    static = FRONTEND / "static"
    if static.is_dir():
        app.mount("/static", StaticFiles(directory=static), name="static")
    return app
