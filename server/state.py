"""What the app keeps for its routes and sockets (`app.state`), typed: the one list of what is
there and of what type. Routes read it through `app_state(request)` (or the Annotated
dependencies in server/deps.py); server/app.py fills it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from starlette.applications import Starlette
from starlette.requests import HTTPConnection

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from sqlalchemy.engine import Engine

    from crdt.rooms import Rooms
    from server.access_cache import AccessCache
    from server.config import Settings
    from server.cpu import CpuPool
    from server.liveaccess import AccessWatch
    from server.mailer import Mailer
    from server.notify import Inbox, Notifier
    from server.opener import Opener
    from server.origins import OriginPolicy
    from server.proxies import TrustedProxies
    from server.relay import RedisRelay
    from server.search import SearchIndexer
    from server.security import LoginThrottle, PasswordWork, SignupThrottle
    from server.versions import VersionKeeper
    from server.webhooks import Webhooks


class AppState(Protocol):
    # made with the app (server/app.py create_app)
    settings: Settings
    secret_key: str
    login_throttle: LoginThrottle
    signup_throttle: SignupThrottle
    passwords: PasswordWork
    proxies: TrustedProxies
    origins: OriginPolicy
    connections_by_address: dict[str, int]
    access_cache: AccessCache
    # made when it starts (its lifespan)
    cpu: CpuPool
    engine: Engine
    rooms: Rooms
    opener: Opener
    versions: VersionKeeper
    search: SearchIndexer
    relay: RedisRelay | None
    metrics: CollectorRegistry
    webhooks: Webhooks
    inbox: Inbox
    notifier: Notifier
    mailer: Mailer | None
    access_watch: AccessWatch


def app_state(where: HTTPConnection | Starlette) -> AppState:
    """The app's state, typed, from a request, a WebSocket or the app itself."""
    app = where if isinstance(where, Starlette) else where.app
    return cast("AppState", app.state)
