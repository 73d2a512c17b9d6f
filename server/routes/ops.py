"""Operations: /healthz (database reachable) and /metrics (Prometheus).

/metrics says how busy the server is and which documents are open; it is served only when
`QUIRE_METRICS_TOKEN` is set, and only to `Authorization: Bearer <that token>` (else 401).
Unset, /metrics answers 404 like any unknown path.
"""

from __future__ import annotations

import asyncio
import hmac
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Request, Response, status
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from server.deps import SettingsDep
from server.state import app_state
from storage.db import ping

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request):
    state = app_state(request)
    checks = {"database": "ok"}
    try:
        await asyncio.wait_for(asyncio.to_thread(ping, state.engine), timeout=3)
    except Exception as exc:
        checks["database"] = f"error: {exc.__class__.__name__}"
    relay = getattr(state, "relay", None)
    if relay is not None:
        checks["redis"] = "ok" if await relay.ping() and relay.connected else "error: unreachable"
    healthy = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ok" if healthy else "error", **checks},
                        status_code=200 if healthy else 503)


@router.get("/metrics")
async def metrics(request: Request, settings: SettingsDep,
                  authorization: Annotated[str | None, Header()] = None) -> Response:
    expected = settings.metrics_token
    if not expected:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "Not Found")
    given = authorization[7:].strip() if authorization and \
        authorization.lower().startswith("bearer ") else ""
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "A metrics token is needed",
                            headers={"WWW-Authenticate": "Bearer"})
    return Response(generate_latest(app_state(request).metrics), media_type=CONTENT_TYPE_LATEST)
