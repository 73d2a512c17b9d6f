"""create_app(settings): wires storage, the room registry and the routes together."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from pycrdt import Doc
from starlette.middleware.sessions import SessionMiddleware

from crdt.limits import PresenceLimits
from crdt.rooms import Rooms, RoomUnavailable
from server.access_cache import AccessCache
from server.config import Settings
from server.cpu import CpuPool
from server.liveaccess import AccessWatch
from server.mailer import Mailer
from server.metrics import make_registry
from server.notify import Inbox, Notifier
from server.opener import Opener
from server.origins import OriginPolicy
from server.proxies import TrustedProxies
from server.relay import RedisRelay
from server.routes import (
    auth,
    authors,
    comments,
    documents,
    email,
    images,
    markdown,
    notifications,
    ops,
    pages,
    search,
    shares,
    suggestions,
    webhooks,
)
from server.routes import versions as versions_routes
from server.search import SearchIndexer
from server.security import (
    LoginThrottle,
    PasswordWork,
    SignupThrottle,
    dummy_hash,
    load_secret_key,
)
from server.templating import STATIC_DIR, STATIC_URL
from server.titles import TitleMirror
from server.versions import VersionKeeper, parse_retention
from server.webhooks import Webhooks
from server.ws import document_socket, serve_document_socket, warm_up
from storage.db import make_engine
from storage.store import SqlStore

log = logging.getLogger("quire.app")


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
            max_document_bytes=settings.max_document_bytes,
            updates_per_second=settings.updates_per_second,
            update_burst=settings.update_burst,
            presence_limits=presence_limits(settings),
        )
        cpu = CpuPool(settings.cpu_workers, settings.cpu_queue)
        app.state.cpu = cpu
        titles = TitleMirror(engine)
        rooms.room_observers.append(titles.watch)
        keeper = VersionKeeper(
            engine, rooms,
            quiet=settings.version_quiet_seconds,
            max_interval=settings.version_max_interval_seconds,
            checkpoint_every=settings.version_checkpoint_every,
            retention=parse_retention(settings.version_retention),
            cpu=cpu, restore_budget=settings.markdown_budget_seconds,
        )
        keeper.attach()
        app.state.versions = keeper
        indexer = SearchIndexer(engine, rooms, debounce=settings.search_debounce_seconds)
        indexer.attach()
        app.state.search = indexer
        app.state.engine = engine
        app.state.rooms = rooms
        app.state.opener = Opener(engine, auth_required=settings.auth_required)
        titles_task = asyncio.create_task(titles.run(), name="quire-titles")
        versions_task = asyncio.create_task(keeper.run(), name="quire-versions")
        search_task = asyncio.create_task(indexer.run(), name="quire-search")
        relay = None
        if settings.redis_url:
            relay = RedisRelay(settings.redis_url, rooms, store, prefix=settings.redis_prefix)
            rooms.room_observers.append(relay.watch)
            relay_task = asyncio.create_task(relay.run(), name="quire-relay")
        app.state.relay = relay
        app.state.metrics = make_registry(rooms, relay, app.state.opener)
        hooks = Webhooks(engine, allow_private=settings.webhook_allow_private,
                         retry_seconds=settings.webhook_retry_seconds,
                         timeout=settings.webhook_timeout_seconds)
        app.state.webhooks = hooks
        hooks_task = asyncio.create_task(hooks.run(), name="quire-webhooks")
        inbox = Inbox(relay)
        notifier = Notifier(engine, rooms, inbox, hooks)
        notifier.attach()
        indexer.indexed_observers.append(notifier.text_mentions)
        app.state.inbox, app.state.notifier = inbox, notifier
        notify_task = asyncio.create_task(notifier.run(), name="quire-notify")
        mailer = mail_task = None
        if settings.smtp_url:
            mailer = Mailer(engine, smtp_url=settings.smtp_url, sender=settings.email_from,
                            public_url=settings.public_url
                            or f"http://{settings.host}:{settings.port}",
                            secret=app.state.secret_key,
                            digest_seconds=settings.email_digest_seconds,
                            retry_max=settings.email_retry_max_seconds)
            mail_task = asyncio.create_task(mailer.run(), name="quire-mail")
        app.state.mailer = mailer
        watch = AccessWatch(engine, rooms, interval=settings.access_recheck_seconds, relay=relay,
                            cache=app.state.access_cache)
        app.state.access_watch = watch
        watch_task = asyncio.create_task(watch.run(), name="quire-access-watch")
        # the hash an unknown username is checked against: made now, so that the first such
        # sign-in takes no longer than any other (server/security.py)
        await asyncio.to_thread(dummy_hash)
        # the first connection after a restart should not pay for compiling queries, opening
        # database connections or importing pycrdt's async backend
        try:
            await asyncio.to_thread(warm_up, engine)
        except Exception as exc:  # the database may come back later; connections retry
            log.warning("warm-up query failed: %s", exc)
        Doc()
        log.info("quire ready (database %s)", engine.url.render_as_string(hide_password=True))
        try:
            yield
        finally:
            inbox.close()
            await rooms.aclose()  # takes the last versions (unload observers)
            # after the rooms: a socket opening meanwhile is told "server restarting" (1001)
            # by the closed registry, not "storage unavailable" by a closed opener
            app.state.opener.close()
            versions_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await versions_task
            await titles.flush()
            search_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await search_task
            await indexer.flush()
            notify_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await notify_task
            await notifier.flush()
            await hooks.flush()  # what was emitted is written; sent after the restart
            cpu.shutdown()
            for task in (watch_task, titles_task, relay_task if relay else None, mail_task,
                         hooks_task):
                if task is None:
                    continue
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
    engine.dispose()


def presence_limits(settings: Settings) -> PresenceLimits:
    """The presence and sync-request limits of every connection (`crdt/limits.py`)."""
    return PresenceLimits(
        states_per_frame=settings.awareness_states_per_frame,
        state_bytes=settings.awareness_state_bytes,
        ids_per_connection=settings.awareness_ids_per_connection,
        per_second=settings.awareness_per_second,
        burst=settings.awareness_burst,
        queries_per_second=settings.query_awareness_per_second,
        query_burst=settings.query_awareness_burst,
        syncs_per_second=settings.sync_requests_per_second,
        sync_burst=settings.sync_request_burst,
        relay_states=settings.relay_awareness_states,
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
API_CSP = "default-src 'none'; frame-ancestors 'none'"


class SecurityHeaders:
    """Headers every HTTP response carries; pages set their own stricter-for-scripts CSP."""

    def __init__(self, app) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # FastAPI's interactive API docs load Swagger UI from its CDN: no API CSP on them
        strict = scope["path"] not in ("/docs", "/redoc", "/docs/oauth2-redirect")

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in self.raw if k not in present]
                if strict and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class QuireApp(FastAPI):
    """FastAPI, with document WebSockets served before its middleware stack: a connection is
    held for hours, and each layer would keep its frame alive for all that time."""

    async def __call__(self, scope, receive, send) -> None:
        scope = self.state.proxies.apply(scope)  # the client's address, from trusted proxies only
        doc_id = document_socket(scope)
        if doc_id is None:
            await super().__call__(scope, receive, send)
        else:
            await serve_document_socket(self, scope, receive, send, doc_id)


async def _room_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A document that cannot be opened right now (server stopping, storage trouble): 503."""
    return JSONResponse({"detail": str(exc) or "try again"}, status_code=503,
                        headers={"Retry-After": "1"})


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = QuireApp(title="Quire", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.login_throttle = LoginThrottle(settings.login_attempts,
                                             settings.login_window_seconds,
                                             cap=settings.login_backoff_max_seconds)
    app.state.signup_throttle = SignupThrottle(settings.signups_per_hour)
    app.state.passwords = PasswordWork(settings.password_hash_workers,
                                       settings.password_hash_queue)
    app.state.proxies = TrustedProxies(settings.trusted_proxies)
    app.state.origins = OriginPolicy(settings.public_url, settings.allowed_origins)
    app.state.connections_by_address = {}
    app.state.access_cache = AccessCache(settings.access_cache_seconds)
    secret = load_secret_key(settings.secret_key, Path(settings.data_dir))
    app.state.secret_key = secret
    app.add_middleware(SessionMiddleware, secret_key=secret, session_cookie="quire_session",
                       max_age=settings.session_max_age, same_site="lax",
                       https_only=settings.secure_cookies)
    app.add_middleware(SecurityHeaders)
    app.include_router(ops.router)
    app.include_router(auth.router)
    app.include_router(shares.router)
    app.include_router(documents.router)
    app.include_router(comments.router)
    app.include_router(markdown.router)
    app.include_router(images.router)
    app.include_router(suggestions.router)
    app.include_router(authors.router)
    app.include_router(versions_routes.router)
    app.include_router(search.router)
    app.include_router(notifications.router)
    app.include_router(notifications.assigned_router)
    app.include_router(email.router)
    app.include_router(webhooks.router)
    app.include_router(pages.router)
    app.add_exception_handler(RoomUnavailable, _room_unavailable)
    if STATIC_DIR.is_dir():
        app.mount(STATIC_URL, StaticFiles(directory=STATIC_DIR), name="static")
    return app
