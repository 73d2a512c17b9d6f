"""`Opener`: for every WebSocket handshake in flight, who it is, their role on the document and,
for a document with no room here yet, its stored state, in one worker-thread visit.

A visit to a worker thread costs the event loop more than the reads themselves (a future, a
wake-up, and the GIL handed back and forth), and handshakes come in crowds: a page of links, a
reconnect storm after a restart. So asks queue up while a visit runs and the next visit takes
them all (up to `max_batch`): who the cookies and tokens not known from the access cache stand
for, in a statement per kind of credential (`server.access.principal_from` reads the answer,
as `resolve` does for one), then every document's owner and invitations in one statement, each
role decided by `server.access.role_from` (the one place the rules are written), and only then
the stored state of the documents someone may open, again in one statement
(storage/opening.py, storage/updates.py). Someone who may not open a document never makes the server read it. A
visit the database fails fails its asks; the next visit asks again.

One visit at a time, on a connection the opener keeps, in autocommit. On PostgreSQL, on a
thread of its own: a visit is then its three statements' round trips, whatever the crowd (a
connection from the pool for each visit also cost its check-out ping, and a BEGIN and a
ROLLBACK per transaction: eight round trips). On SQLite, on the loop itself, in the turn after
the handshakes came (as SQLite's commits are): the reads take microseconds from the page cache,
less than the hop to a thread and back, and the GIL handed over meanwhile (3.4 % of the
server's instructions per document opened: bench/instructions.py).

Handshakes arrive one per turn of the loop, so a visit made at once rarely finds more than one
waiting (on SQLite, ~900 visits for a thousand sockets). In a crowd (the last visit was less
than `CROWD_SECONDS` ago) a visit waits `GATHER_SECONDS` for more, or until `max_batch` wait:
a thousand sockets opening at once then take 130-180 visits on SQLite (~90 on PostgreSQL,
from ~250), and the server's CPU per socket fell by a third on SQLite (1.47 -> 0.97 ms,
medians of four interleaved runs; PostgreSQL 1.23 -> 1.13 ms): two statements a visit
instead of a socket, and the handshakes answered together then run on together while the code
they run is still in the CPU's caches (a statement from cold caches took four times as long
as in a tight loop). Someone opening a document alone never waits. Each statement reads one
moment, which is all the reads need. A connection that broke (the database restarted) is
replaced, and the visit read again once.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from crdt.rooms import Preloaded
from server.access import Principal, asked_of, principal_from, role_from
from storage.opening import AccessFacts, access_facts_for, sign_ins_for
from storage.updates import read_many

# Within this long of the last visit, handshakes are a crowd, and a visit waits for more of
# them this long (see above)
CROWD_SECONDS = 0.010
GATHER_SECONDS = 0.005


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
        # None on SQLite: visits run on the loop (see above)
        self._thread = (None if engine.dialect.name == "sqlite" else
                        ThreadPoolExecutor(max_workers=1, thread_name_prefix="quire-opener"))
        self._conn: Connection | None = None  # the visits' own, opened on the first one
        self._last_visit = float("-inf")  # loop time of the last visit
        self._gathering: asyncio.TimerHandle | None = None  # a visit waiting for a crowd
        self._closed = False  # on the loop: as a shut-down thread refuses visits

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
            self._schedule(loop)
        elif self._gathering is not None and len(self._queue) >= self.max_batch:
            self._gathering.cancel()  # a full visit's worth: no need to wait
            self._gathering = None
            loop.call_soon(self._visit_next, loop)
        return await ask.future

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        """The next visit: after the handshakes this turn of the loop reads (they go in the same
        visit), or in a crowd, after GATHER_SECONDS (see above)."""
        self._visiting = True
        if (len(self._queue) < self.max_batch
                and loop.time() - self._last_visit < CROWD_SECONDS):
            self._gathering = loop.call_later(GATHER_SECONDS, self._visit_next, loop)
        else:
            loop.call_soon(self._visit_next, loop)

    def close(self) -> None:
        """Visits end; the thread gives its connection back after the one running, if any. The
        asks of a visit still gathering fail now, not when the wait would have ended."""
        gathering, self._gathering = self._gathering, None
        if gathering is not None:
            gathering.cancel()
        if self._thread is None:
            self._closed = True
            self._release()
        else:
            try:
                self._thread.submit(self._release)
            except RuntimeError:  # closed already
                pass
            else:
                self._thread.shutdown(wait=False)
        if gathering is not None:
            self._visit_next(asyncio.get_running_loop())

    # ---- on the loop -----------------------------------------------------------------------

    def _visit_next(self, loop: asyncio.AbstractEventLoop) -> None:
        batch, self._queue = self._queue[:self.max_batch], self._queue[self.max_batch:]
        self._gathering = None
        self._last_visit = loop.time()
        if self._thread is None:
            self.visits += 1
            done: Future[list[Opened]] = Future()
            try:
                if self._closed:
                    raise RuntimeError("the server is stopping")
                done.set_result(self._visit(batch))
            except Exception as exc:
                done.set_exception(exc)
            self._answer(loop, batch, done)
            return
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
                finished: Future[list[Opened]]) -> None:
        self._visiting = False
        failure: BaseException | None = None
        try:
            answers = finished.result()
        except Exception as exc:  # the database failed the whole visit
            failure = exc
        except BaseException:  # cancelled: the server is stopping
            failure = RuntimeError("the server is stopping")
        for n, ask in enumerate(batch):
            if ask.future.done():  # its handshake went away meanwhile
                continue
            if failure is not None:
                ask.future.set_exception(failure)
            else:
                ask.future.set_result(answers[n])
        if self._queue:
            self._schedule(loop)

    # ---- on the opener's thread ------------------------------------------------------------

    def _visit(self, batch: list[_Ask]) -> list[Opened]:
        try:
            return self._read(self._connection(), batch)
        except DBAPIError as exc:
            self._release()
            if not exc.connection_invalidated:
                raise
        return self._read(self._connection(), batch)  # a fresh connection, once

    def _connection(self) -> Connection:
        if self._conn is None:
            self._conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._conn

    def _release(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def _read(self, conn: Connection, batch: list[_Ask]) -> list[Opened]:
        principals = self._principals(conn, batch)
        facts = access_facts_for(conn, [
            (ask.doc_id, principal.user.id if principal.user is not None else None)
            for ask, principal in zip(batch, principals, strict=True)])
        roles = [self._role(ask, principal, found)
                 for ask, principal, found in zip(batch, principals, facts, strict=True)]
        wanted = [ask.doc_id for ask, role in zip(batch, roles, strict=True)
                  if role is not None and ask.ticket is not None]
        states = read_many(conn, wanted) if wanted else {}
        opened: list[Opened] = []
        for ask, principal, role in zip(batch, principals, roles, strict=True):
            preloaded = None
            if role is not None and ask.ticket is not None:
                preloaded = Preloaded(ask.ticket, states[ask.doc_id].updates)
            opened.append(Opened(principal, role, preloaded))
        return opened

    def _principals(self, conn: Connection, batch: list[_Ask]) -> list[Principal]:
        """Each ask's person: from the access cache, else read for all of the visit at once."""
        if not self.auth_required:
            return [Principal()] * len(batch)
        unknown = [(ask.session_id, ask.token) for ask in batch if ask.known is None]
        found = sign_ins_for(conn, **asked_of(unknown)) if unknown else None
        return [ask.known if ask.known is not None
                else principal_from(ask.session_id, ask.token, found)  # type: ignore[arg-type]
                for ask in batch]

    def _role(self, ask: _Ask, principal: Principal, found: AccessFacts | None) -> str | None:
        if found is None:
            return None
        return role_from(principal, ask.doc_id, found) if self.auth_required else "owner"


def _call_soon(loop: asyncio.AbstractEventLoop, *args: Any) -> None:
    """From the opener's thread: run on the loop, unless the loop is gone (server stopped)."""
    try:
        loop.call_soon_threadsafe(*args)
    except RuntimeError:
        pass
