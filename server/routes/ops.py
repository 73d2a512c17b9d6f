"""Operations: /healthz (database reachable) and /metrics (Prometheus)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from storage.db import ping

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz(request: Request):
    state = request.app.state
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
async def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
