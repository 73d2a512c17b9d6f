"""Webhooks: signed POSTs of a document's events to the owner's tools (chat, trackers).

Events (`EVENTS`) come from what the server itself saw: comment threads created, replied to and
resolved, mentions (server/notify.py reads them from the document), versions named. `emit` only
queues (a list append, safe inside a Yjs transaction's observer); `run` (a lifespan task) writes
a delivery row per interested webhook, then sends what is due:

    POST <url>   Content-Type: application/json
    X-Quire-Event: comment.created
    X-Quire-Delivery: <delivery id>
    X-Quire-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>

A 2xx answer delivers it; anything else (or no answer within `timeout`) is retried after a wait
that grows fourfold (`retry_seconds`, ×4, … for `MAX_ATTEMPTS` attempts), then marked failed.
Each webhook's last deliveries, with the status or error of the last attempt, are listed by the
API. URLs whose host resolves to a private, loopback, link-local or otherwise non-public address
are refused when made and again before every attempt (a name can change what it resolves to),
unless `allow_private` (QUIRE_WEBHOOK_ALLOW_PRIVATE; tests and intranet setups).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy.engine import Engine

from storage import webhooks as store
from storage.models import utcnow

log = logging.getLogger("quire.webhooks")
EVENTS = ("comment.created", "comment.replied", "comment.resolved", "mention", "version.named")
MAX_ATTEMPTS = 6
MAX_URL = 2000


class BadUrl(ValueError):
    pass


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _public_address(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def check_url(url: str, *, allow_private: bool) -> str:
    """`url` if Quire may POST to it; raises BadUrl saying why not. Blocking (DNS)."""
    if len(url) > MAX_URL:
        raise BadUrl("the URL is too long")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadUrl("the URL must be http:// or https:// with a host")
    if parts.username or parts.password:
        raise BadUrl("the URL must not carry a user name or password")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise BadUrl("the URL's port is not valid") from exc
    if allow_private:
        return url
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise BadUrl("the URL's host cannot be resolved") from exc
    if not found or not all(_public_address(str(info[4][0])) for info in found):
        raise BadUrl("the URL's host is a private, loopback or otherwise internal address")
    return url


class Webhooks:
    def __init__(self, engine: Engine, *, allow_private: bool = False, retry_seconds: float = 10.0,
                 timeout: float = 10.0, poll: float = 1.0) -> None:
        self.engine = engine
        self.allow_private = allow_private
        self.retry_seconds = retry_seconds
        self.timeout = timeout
        self.poll = poll
        self._queue: list[tuple[str, str, str]] = []  # (doc id, event, payload)
        self._wake = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def emit(self, doc_id: str, event: str, data: dict[str, Any]) -> None:
        """Queue `event` of `doc_id` for the webhooks that want it (cheap; any code on the loop)."""
        assert event in EVENTS, event
        payload = json.dumps({"id": str(uuid.uuid4()), "event": event, "doc_id": doc_id,
                              "created_at": utcnow().isoformat(), **data},
                             ensure_ascii=False, separators=(",", ":"))
        self._queue.append((doc_id, event, payload))
        self._wake.set()

    def emit_threadsafe(self, doc_id: str, event: str, data: dict[str, Any]) -> None:
        """`emit` from a worker thread."""
        self._loop.call_soon_threadsafe(self.emit, doc_id, event, data)

    async def run(self) -> None:
        """Write and send deliveries (the lifespan owns this task)."""
        async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False,
                                     headers={"User-Agent": "Quire-Webhooks/1"}) as client:
            while True:
                try:
                    await self.flush()
                    await self.deliver_due(client)
                except Exception:
                    log.exception("webhook deliveries: a round failed (the next one retries)")
                try:
                    await asyncio.wait_for(self._wake.wait(), self.poll)
                except TimeoutError:
                    pass
                self._wake.clear()

    async def flush(self) -> None:
        """Write what was emitted as deliveries (shutdown, tests)."""
        queue, self._queue = self._queue, []
        for doc_id, event, payload in queue:
            await asyncio.to_thread(store.enqueue, self.engine, doc_id=doc_id, event=event,
                                    payload=payload)

    async def deliver_due(self, client: httpx.AsyncClient) -> int:
        due = await asyncio.to_thread(store.due, self.engine,
                                      lease=timedelta(seconds=self.timeout * 3))
        if due:
            await asyncio.gather(*(self._attempt(client, d, h) for d, h in due))
        return len(due)

    async def _attempt(self, client: httpx.AsyncClient, delivery: Any, hook: Any) -> None:
        body = delivery.payload.encode()
        status: int | None = None
        error: str | None = None
        try:
            await asyncio.to_thread(check_url, hook.url, allow_private=self.allow_private)
            # the status is all we need: the receiver's body is never read (it could be endless)
            async with client.stream("POST", hook.url, content=body, headers={
                "Content-Type": "application/json",
                "X-Quire-Event": delivery.event,
                "X-Quire-Delivery": str(delivery.id),
                "X-Quire-Signature": sign(hook.secret, body),
            }) as response:
                status = response.status_code
            if not 200 <= status < 300:
                error = f"the receiver answered {status}"
        except BadUrl as exc:
            error = str(exc)
        except httpx.HTTPError as exc:
            error = f"{exc.__class__.__name__}: {exc}"[:300] or exc.__class__.__name__
        delivered = error is None
        attempts = delivery.attempts + 1
        retry_at = None
        if not delivered and attempts < MAX_ATTEMPTS:
            retry_at = utcnow() + timedelta(seconds=self.retry_seconds * 4 ** (attempts - 1))
        if not delivered:
            log.info("webhook %s: delivery %s attempt %d failed: %s", hook.id, delivery.id,
                     attempts, error)
        await asyncio.to_thread(store.record, self.engine, delivery_id=delivery.id,
                                delivered=delivered, status=status, error=error,
                                retry_at=retry_at)
