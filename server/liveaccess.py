"""Live connections lose what their person lost, on every process.

A WebSocket is authorised once, when it opens, and may then live for hours. `AccessWatch`
re-checks the open connections of this process against the database (`judge_all`: every
session, token, link, document and invitation involved, read in a few statements whatever the
number of connections) and closes, or makes reconnect, those whose access changed:

| what changed                                     | close code                               |
|--------------------------------------------------|------------------------------------------|
| session revoked or expired, API token revoked     | 4401 (signed out: sign in again)         |
| invitation or link revoked or expired             | 4403 (access removed: terminal)          |
| role raised or lowered                            | 3001 (reconnect and read the new role)   |
| document deleted (on another process)             | 4410                                     |

When: at once for the connections of this process when a route changes sharing
(`doc_changed`) or an account's sessions or tokens (`account_changed`); on every other process
through a control message on the Redis relay (when Redis is on); and every
`QUIRE_ACCESS_RECHECK_SECONDS` for every connection, which catches expiry (nobody acts when a
link runs out) and any control message Redis lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy.engine import Engine

from crdt.connection import Connection
from crdt.protocol import CloseCode
from crdt.rooms import Rooms
from server.access import Principal, role_from
from server.access_cache import AccessCache
from storage import sessions
from storage import shares as store_shares
from storage.in_lists import CHUNK
from storage.models import Share, User
from storage.opening import AccessFacts, SignIns, access_facts_for, sign_ins_for

log = logging.getLogger("quire.access")
PURGE_EVERY = 3600.0  # seconds between deletions of long-dead session rows


@dataclass(frozen=True)
class Verdict:
    code: int | None  # None: the connection keeps its role
    reason: str = ""


KEEP = Verdict(None)


def _key(doc_id: str, principal: Principal, role: str) -> tuple:
    return (doc_id, role, principal.user.id if principal.user else None, principal.session,
            principal.api_token, principal.link.id if principal.link else None)


def judge_all(engine: Engine,
              asks: dict[tuple, tuple[str, Principal, str]]) -> dict[tuple, Verdict]:
    """What to do with each connection (to document, opened by principal, with role), by what
    the database says now: a few statements for a thousand connections, not several each.
    Blocking: run in a thread."""
    verdicts: dict[tuple, Verdict] = {}
    items = list(asks.items())
    with engine.connect() as conn:
        for start in range(0, len(items), CHUNK):
            part = items[start:start + CHUNK]
            principals = [principal for _, (_, principal, _) in part]
            found = sign_ins_for(
                conn, sessions=[p.session for p in principals if p.session is not None],
                tokens=[p.api_token for p in principals
                        if p.session is None and p.api_token is not None],
                share_ids=[p.link.id for p in principals if p.link is not None])
            users = [_user_now(p, found) for p in principals]
            facts = access_facts_for(conn, [
                (doc_id, user.id if user is not None else None)
                for (_, (doc_id, _, _)), user in zip(part, users, strict=True)])
            for (key, (doc_id, principal, role)), user, doc_facts in zip(part, users, facts,
                                                                         strict=True):
                link = found.shares.get(principal.link.id) if principal.link else None
                verdicts[key] = _verdict(doc_id, principal, role, user, link, doc_facts)
    return verdicts


def _user_now(principal: Principal, found: SignIns) -> User | None:
    """The account the session or token that opened the connection stands for now."""
    if principal.session is not None:
        return found.sessions.get(principal.session)
    if principal.api_token is not None:
        return found.tokens.get(principal.api_token)
    return principal.user


def _verdict(doc_id: str, principal: Principal, role: str, user: User | None,
             link: Share | None, facts: AccessFacts | None) -> Verdict:
    if facts is None:  # deleted (on another process: this one's room was not discarded)
        return Verdict(CloseCode.GONE, "this document was deleted")
    fresh = role_from(Principal(user=user, link=link), doc_id, facts)
    if fresh is None:
        if principal.user is not None and user is None:
            return Verdict(CloseCode.UNAUTHORIZED, "you were signed out")
        if link is not None and link.revoked_at is None and not store_shares.is_active(link):
            return Verdict(CloseCode.FORBIDDEN, "Your link to this document expired")
        return Verdict(CloseCode.FORBIDDEN,
                       "Your access to this document was removed by the owner")
    if fresh != role:
        return Verdict(CloseCode.ROLE_CHANGED, "your role on this document changed")
    return KEEP


class AccessWatch:
    def __init__(self, engine: Engine, rooms: Rooms, *, interval: float = 30.0,
                 relay=None, cache: AccessCache | None = None) -> None:
        self.engine = engine
        self.cache = cache  # recent decisions new connections reuse: forgotten on any change
        self.rooms = rooms
        self.interval = interval
        self.relay = relay
        self.closed = 0  # connections closed or sent to reconnect (for tests and logs)
        self._docs: set[str] = set()
        self._users: set[str] = set()
        self._everything = False
        self._wake = asyncio.Event()
        if relay is not None:
            relay.control_handlers.append(self.on_control)

    # ---- what routes call -------------------------------------------------------------------

    async def doc_changed(self, doc_id: str) -> None:
        """Sharing of `doc_id` changed: apply it to its connections here, then everywhere."""
        self._forget()
        await self.recheck(self._connections(doc_ids={doc_id}))
        self._tell_others({"doc": doc_id})

    async def account_changed(self, user_id: str) -> None:
        """An account's sessions, tokens or password changed: re-check its connections here,
        then everywhere."""
        self._forget()
        await self.recheck(self._connections(user_ids={user_id}))
        self._tell_others({"user": user_id})

    def _forget(self) -> None:
        if self.cache is not None:
            self.cache.clear()

    def _tell_others(self, message: dict) -> None:
        if self.relay is not None:
            self.relay.publish_control(json.dumps(message).encode())

    # ---- what other processes say ------------------------------------------------------------

    def on_control(self, payload: bytes) -> None:
        """A control message from the relay (another process changed access)."""
        try:
            message = json.loads(payload)
        except ValueError:
            log.warning("dropped a malformed access control message")
            return
        if not isinstance(message, dict) or "notified" in message:  # server/notify.py's
            return
        self._forget()
        if isinstance(message.get("doc"), str):
            self._docs.add(message["doc"])
        elif isinstance(message.get("user"), str):
            self._users.add(message["user"])
        elif message.get("all") is True:
            self._everything = True
        self._wake.set()

    # ---- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve control messages as they come, and re-check everything every `interval`."""
        next_sweep = time.monotonic() + self.interval
        next_purge = time.monotonic()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.0, next_sweep - time.monotonic()))
            self._wake.clear()
            now = time.monotonic()
            everything = self._everything or now >= next_sweep
            docs, users = self._docs, self._users
            self._docs, self._users, self._everything = set(), set(), False
            try:
                if everything:
                    next_sweep = now + self.interval
                    await self.recheck(self._connections())
                elif docs or users:
                    await self.recheck(self._connections(doc_ids=docs, user_ids=users))
                if now >= next_purge:
                    next_purge = now + PURGE_EVERY
                    await asyncio.to_thread(sessions.purge_sessions, self.engine)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database may be away: the next sweep tries again
                log.warning("access re-check failed: %r", exc)

    # ---- the work ----------------------------------------------------------------------------

    def _connections(self, *, doc_ids: set[str] | None = None,
                     user_ids: set[str] | None = None) -> list[tuple[str, Connection, Principal]]:
        found = []
        for doc_id in self.rooms.open_doc_ids():
            room = self.rooms.open_room(doc_id)
            if room is None:
                continue
            for conn in list(room.connections):
                principal = conn.identity
                if not isinstance(principal, Principal) or principal.anonymous:
                    continue  # accounts are off: nothing to re-check
                if doc_ids is None and user_ids is None:
                    found.append((doc_id, conn, principal))
                elif (doc_ids and doc_id in doc_ids) or (
                        user_ids and principal.user is not None and principal.user.id in user_ids):
                    found.append((doc_id, conn, principal))
        return found

    async def recheck(self, found: list[tuple[str, Connection, Principal]]) -> None:
        """Judge each (document, principal, role) once, then close what must close."""
        if not found:
            return
        asks = {_key(doc_id, p, conn.role): (doc_id, p, conn.role) for doc_id, conn, p in found}

        verdicts = await asyncio.to_thread(judge_all, self.engine, asks)
        for doc_id, conn, principal in found:
            verdict = verdicts[_key(doc_id, principal, conn.role)]
            if verdict.code is not None:
                self._forget()  # whatever ended this access must not let a new socket in
                conn.close(verdict.code, verdict.reason)
                self.closed += 1
