"""`Opener`: for every WebSocket handshake in flight, who it is, their role on the document and,
for a document with no room here yet, its stored state, in one worker-thread visit.

A visit to a worker thread costs the event loop more than the reads themselves (a future, a
wake-up, and the GIL handed back and forth), and handshakes come in crowds: a page of links, a
reconnect storm after a restart. So asks queue up while a visit runs and the next visit takes
them all (up to `max_batch`): people not known from the access cache are resolved one by one,
then every document's owner and invitations are read in one statement, each role is decided by
`server.access.role_from` (the one place the rules are written), and only then the stored
state of the documents someone may open, again in one statement (storage/opening.py). Someone
who may not open a document never makes the server read it.

One visit at a time, on a thread of its own: on SQLite the reads take microseconds; on
PostgreSQL a visit is a handful of round trips whatever the crowd.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from crdt.rooms import Preloaded
from server.access import Principal, resolve, role_from
from storage.opening import AccessFacts, access_facts_for, stored_states


@dataclass(frozen=True)
class Opened:
    principal: Principal
    role: str | None  # None: may not open it (or there is no such document)
    preloaded: Preloaded | None  # the stored state, when asked for (a ticket) and granted


@dataclass
class _Ask:
    doc_id: str
    session_id: str | None
    token: str | None
    known: Principal | None  # from the access cache: not resolved again
    ticket: int | None  # Rooms.preload_ticket: read the stored state too, if granted
    future: asyncio.Future[Opened] = field(repr=False)


class Opener:
    def __init__(self, engine: Engine, *, auth_required: bool = True, max_batch: int = 64) -> None:
        self.engine = engine
        self.auth_required = auth_required
        self.max_batch = max_batch
        self.visits = 0  # worker-thread visits so far (/metrics)
        self.asks = 0  # opens asked so far
        self._queue: list[_Ask] = []
        self._visiting = False
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="quire-opener")

    async def open(self, doc_id: str, *, session_id: str | None = None,
                   token: str | None = None, known: Principal | None = None,
                   ticket: int | None = None) -> Opened:
        """Who sends `session_id`/`token` (or `known`), their role on `doc_id`, and with a
        `ticket` and a role, the document's stored state. Raises what the database raises."""
        loop = asyncio.get_running_loop()
        ask = _Ask(doc_id, session_id, token, known, ticket, loop.create_future())
        self._queue.append(ask)
        self.asks += 1
        if not self._visiting:
            # after the handshakes this turn of the loop reads: they go in the same visit
            self._visiting = True
            loop.call_soon(self._visit_next, loop)
        return await ask.future

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    # ---- on the loop -----------------------------------------------------------------------

    def _visit_next(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        try:
            done = self._thread.submit(self._visit, batch)
        except RuntimeError as exc:  # closed: the server is stopping
            self._visiting = False
            batch, self._queue = batch + self._queue, []
            for ask in batch:
                if not ask.future.done():
                    ask.future.set_exception(exc)
            return
        self._visiting = True
        self.visits += 1
        done.add_done_callback(lambda finished: _call_soon(loop, self._answer, loop, batch,
                                                           finished))

    def _answer(self, loop: asyncio.AbstractEventLoop, batch: list[_Ask],
                finished: Future[list[Opened | BaseException]]) -> None:
        self._visiting = False
        answers: list[Opened | BaseException]
        try:
            answers = finished.result()
        except Exception as exc:  # the database failed the whole visit
            answers = [exc] * len(batch)
        except BaseException:  # cancelled: the server is stopping
            answers = [RuntimeError("the server is stopping")] * len(batch)
        for ask, answer in zip(batch, answers, strict=True):
            if ask.future.done():  # its handshake went away meanwhile
                continue
            if isinstance(answer, BaseException):
                ask.future.set_exception(answer)
            else:
                ask.future.set_result(answer)
        if self._queue:
            self._visit_next(loop)

    # ---- on the opener's thread ------------------------------------------------------------

    def _visit(self, batch: list[_Ask]) -> list[Opened | BaseException]:
        principals: list[Principal | BaseException] = []
        # the same cookie or token in one visit (one person's tabs, a crowd sharing a link, a
        # reconnect storm that came before the access cache knew them) is resolved once
        resolved: dict[tuple[str | None, str | None], Principal | BaseException] = {}
        for ask in batch:
            if ask.known is not None or not self.auth_required:
                principals.append(self._principal(ask))
                continue
            key = (ask.session_id, ask.token)
            found = resolved.get(key)
            if found is None:
                try:
                    found = self._principal(ask)
                except Exception as exc:  # only the asks with these credentials fail
                    found = exc
                resolved[key] = found
            principals.append(found)
        asked = [(ask, principal) for ask, principal in zip(batch, principals, strict=True)
                 if isinstance(principal, Principal)]
        with self.engine.connect() as conn:
            facts = access_facts_for(conn, [
                (ask.doc_id, principal.user.id if principal.user is not None else None)
                for ask, principal in asked])
            roles = [self._role(ask, principal, found)
                     for (ask, principal), found in zip(asked, facts, strict=True)]
            wanted = [ask.doc_id for (ask, _), role in zip(asked, roles, strict=True)
                      if role is not None and ask.ticket is not None]
            states = stored_states(conn, wanted) if wanted else {}
        opened: dict[int, Opened] = {}
        for (ask, principal), role in zip(asked, roles, strict=True):
            preloaded = None
            if role is not None and ask.ticket is not None:
                preloaded = Preloaded(ask.ticket, states[ask.doc_id])
            opened[id(ask)] = Opened(principal, role, preloaded)
        return [opened[id(ask)] if isinstance(principal, Principal) else principal
                for ask, principal in zip(batch, principals, strict=True)]

    def _role(self, ask: _Ask, principal: Principal, found: AccessFacts | None) -> str | None:
        if found is None:
            return None
        return role_from(principal, ask.doc_id, found) if self.auth_required else "owner"

    def _principal(self, ask: _Ask) -> Principal:
        if not self.auth_required:
            return Principal()
        if ask.known is not None:
            return ask.known
        return resolve(self.engine, session_id=ask.session_id, token=ask.token)



def _call_soon(loop: asyncio.AbstractEventLoop, *args: Any) -> None:
    """From the opener's thread: run on the loop, unless the loop is gone (server stopped)."""
    try:
        loop.call_soon_threadsafe(*args)
    except RuntimeError:
        pass
