"""Notifications: made by the server from what it stores, delivered live to open pages.

`Notifier` watches every open document's comment threads (the room's comment observers, inside
the transaction: it only copies out the added messages). A message added by a connection on this
process or by the server itself (REST) is turned, off the event loop, into notifications:
- `mention`: the body names `@username` (crdt/mentions.py) of an account that can read the
  document;
- `reply`: a reply in a thread the person started or wrote in;
never for one's own message, and one per message and person (a mention outranks a reply). A
message that came from another process (Redis) is that process's to notify; the database's
unique (person, event) key keeps an event seen twice from being written twice anyway.
Invitations (`shared`) are notified by the route that makes them.

`Inbox` wakes the live unread counters (server-sent events, routes/notifications.py) of the
people notified, on this process and, through the relay's control channel, on every other.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pycrdt import Map
from sqlalchemy.engine import Engine

from crdt.comments import (
    AddedMessage,
    added_messages,
    assigned_threads,
    person_id,
    resolved_threads,
)
from crdt.connection import Connection
from crdt.mentions import mentioned_usernames
from crdt.room import RELAY, Origin, Room
from crdt.rooms import Rooms
from storage import assignments, notifications, shares
from storage.accounts import get_user, get_user_by_username
from storage.documents import get_document
from storage.models import Document

if TYPE_CHECKING:
    from server.webhooks import Webhooks

log = logging.getLogger("quire.notify")
ASSIGNEE_COLOR = "#6b7280"  # an assignee's colour in comment data (theirs is their browser's)
MAX_STREAMS_PER_PERSON = 16
TEXT_COUNTS_KEPT = 10_000  # documents whose text mentions are remembered (oldest forgotten)  # live counters at once (tabs, devices); more are refused


class TooManyStreams(Exception):
    pass


def can_read(engine: Engine, doc: Document, user_id: str) -> bool:
    """Whether the account `user_id` may read `doc` (owner or an active invitation). Blocking."""
    return doc.owner_id == user_id or bool(shares.user_roles(engine, doc_id=doc.id, user_id=user_id))


def message_events(engine: Engine, doc_id: str,
                   added: list[AddedMessage]) -> list[notifications.Event]:
    """The notifications `added` messages of `doc_id` make (blocking: reads accounts/shares)."""
    doc = get_document(engine, doc_id=doc_id)
    if doc is None:
        return []
    readers: dict[str, bool] = {}

    def reader(user_id: str) -> bool:
        if user_id not in readers:
            readers[user_id] = can_read(engine, doc, user_id)
        return readers[user_id]

    events: list[notifications.Event] = []
    for message in added:
        author = message.author or {}
        author_id = person_id(author)
        if author_id is None:  # accounts off, or data from before ownership: nobody to name
            continue
        common = {"doc_id": doc_id, "event_key": f"message:{message.message_id}",
                  "actor_id": author_id, "actor_name": str(author.get("name") or ""),
                  "thread_id": message.thread_id, "quote": message.quote,
                  "excerpt": message.body}
        told: set[str] = {author_id}
        before = set(mentioned_usernames(message.edited_from or ""))
        for username in mentioned_usernames(message.body):
            if username in before:  # an edit tells only the people it newly names
                continue
            user = get_user_by_username(engine, username=username)
            if user is None or user.id in told or not reader(user.id):
                continue
            told.add(user.id)
            events.append(notifications.Event(user_id=user.id, kind="mention", **common))
        if not message.first and message.edited_from is None:
            for user_id in message.participants:
                if user_id in told or user_id.startswith("link:") or not reader(user_id):
                    continue
                told.add(user_id)
                events.append(notifications.Event(user_id=user_id, kind="reply", **common))
    return events


def actor_data(person: dict[str, Any] | None) -> dict[str, Any]:
    person = person or {}
    return {"id": person.get("id"), "name": person.get("name"), "username": person.get("username")}


def message_data(message: AddedMessage) -> dict[str, Any]:
    """What a webhook is told of a comment message."""
    return {"thread_id": message.thread_id, "quote": message.quote,
            "message": {"id": message.message_id, "body": message.body},
            "actor": actor_data(message.author)}


class Inbox:
    """Wakes the live counters of people who were notified."""

    def __init__(self, relay: Any = None) -> None:
        self._listeners: dict[str, set[asyncio.Event]] = {}
        self.closing = False
        self.relay = relay
        if relay is not None:
            relay.control_handlers.append(self.on_control)

    def open_stream(self, user_id: str) -> asyncio.Event:
        """An event set whenever `user_id` gets a notification (or the server stops); give it
        back with `close_stream`. Raises TooManyStreams past MAX_STREAMS_PER_PERSON."""
        listeners = self._listeners.setdefault(user_id, set())
        if len(listeners) >= MAX_STREAMS_PER_PERSON:
            raise TooManyStreams(user_id)
        event = asyncio.Event()
        listeners.add(event)
        return event

    def close_stream(self, user_id: str, event: asyncio.Event) -> None:
        listeners = self._listeners.get(user_id)
        if listeners is not None:
            listeners.discard(event)
            if not listeners:
                del self._listeners[user_id]

    def streams(self, user_id: str) -> int:
        return len(self._listeners.get(user_id, ()))

    def wake(self, user_ids: list[str], *, tell_others: bool = True) -> None:
        for user_id in user_ids:
            for event in self._listeners.get(user_id, ()):
                event.set()
        if tell_others and user_ids and self.relay is not None:
            self.relay.publish_control(json.dumps({"notified": sorted(set(user_ids))}).encode())

    def on_control(self, payload: bytes) -> None:
        """Another process notified someone (or the relay reconnected: wake everyone)."""
        try:
            message = json.loads(payload)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("all") is True:
            self.wake(list(self._listeners), tell_others=False)
        elif isinstance(message.get("notified"), list):
            self.wake([u for u in message["notified"][:1000] if isinstance(u, str)],
                      tell_others=False)

    def close(self) -> None:
        """The server is stopping: end every live stream."""
        self.closing = True
        for listeners in self._listeners.values():
            for event in listeners:
                event.set()


class Notifier:
    def __init__(self, engine: Engine, rooms: Rooms, inbox: Inbox,
                 webhooks: Webhooks | None = None) -> None:
        self.engine = engine
        self.rooms = rooms
        self.inbox = inbox
        self.webhooks = webhooks
        self._queue: list[tuple[str, list[AddedMessage]]] = []
        self._assigned: list[tuple[str, str, str, dict[str, Any], str]] = []
        self._resolved: list[tuple[str, list[str]]] = []
        self._text_counts: dict[str, dict[str, int]] = {}  # doc id -> mentions last seen per person
        self._wake = asyncio.Event()

    def attach(self) -> None:
        self.rooms.room_observers.append(self.watch)

    def watch(self, room: Room) -> None:
        doc_id = room.doc_id

        def changed(events: list[Any], comments: Map[Any], origin: Origin) -> None:
            if origin == RELAY:
                return
            added = added_messages(events, comments)
            if added:
                self._queue.append((doc_id, added))
                self._wake.set()
            done = [thread_id for thread_id, _ in resolved_threads(events)]
            if done:  # no longer anyone's to do ("Assigned to me" follows at once)
                self._resolved.append((doc_id, done))
                self._wake.set()
            if isinstance(origin, Connection) and origin.account:  # REST assigns tell themselves
                by = {"id": origin.account, "name": origin.verified_name or ""}
                for thread_id, assignee, quote in assigned_threads(events):
                    self._assigned.append((doc_id, thread_id, str(assignee["id"]), by, quote))
                    self._wake.set()
            if self.webhooks is not None:
                for message in added:
                    if message.edited_from is None:
                        self.webhooks.emit(doc_id, "comment.created" if message.first
                                           else "comment.replied", message_data(message))
                for thread_id, resolver in resolved_threads(events):
                    self.webhooks.emit(doc_id, "comment.resolved",
                                       {"thread_id": thread_id, "actor": actor_data(resolver)})

        room.comment_observers.append(changed)

    async def run(self) -> None:
        """Write notifications as messages come (the lifespan owns this task)."""
        while True:
            await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> None:
        """Write what is queued, now (shutdown, tests)."""
        resolved, self._resolved = self._resolved, []
        for doc_id, thread_ids in resolved:
            try:
                await asyncio.to_thread(assignments.drop, self.engine, doc_id=doc_id,
                                        thread_ids=thread_ids)
            except Exception:
                log.exception("doc %s: resolved threads stay assigned until the next index", doc_id)
        assigned, self._assigned = self._assigned, []
        for doc_id, thread_id, assignee_id, by, quote in assigned:
            doc = await asyncio.to_thread(get_document, self.engine, doc_id=doc_id)
            if doc is not None:
                await self.assigned(doc, thread_id=thread_id, assignee_id=assignee_id, by=by,
                                    quote=quote)
        queue, self._queue = self._queue, []
        for doc_id, added in queue:
            try:
                notified = await asyncio.to_thread(self._write, doc_id, added)
            except Exception:
                log.exception("doc %s: notifications for %d message(s) were not written",
                              doc_id, len(added))
                continue
            self.inbox.wake(notified)

    def _write(self, doc_id: str, added: list[AddedMessage]) -> list[str]:
        events = message_events(self.engine, doc_id, added)
        if self.webhooks is not None:
            mentioned: dict[str, list[str]] = {}
            for event in events:
                if event.kind == "mention":
                    mentioned.setdefault(event.event_key, []).append(event.user_id)
            for message in added:
                ids = mentioned.get(f"message:{message.message_id}")
                if ids:  # on the loop: emit only appends to a list (a thread-safe call)
                    self.webhooks.emit_threadsafe(doc_id, "mention",
                                                  {**message_data(message), "mentioned": ids})
        return notifications.add(self.engine, events)

    async def assigned(self, doc: Document, *, thread_id: str, assignee_id: str,
                       by: Mapping[str, Any], quote: str) -> None:
        """A thread of `doc` was assigned to `assignee_id` by `by` (a person object)."""
        by_id = person_id(by)
        if assignee_id == by_id:
            return

        def write() -> list[str]:
            if not can_read(self.engine, doc, assignee_id):
                return []
            assignments.put(self.engine, doc_id=doc.id, thread_id=thread_id, user_id=assignee_id,
                            quote=quote, assigned_by=str(by.get("name") or ""))
            return notifications.add(self.engine, [notifications.Event(
                user_id=assignee_id, doc_id=doc.id, kind="assigned",
                event_key=f"assigned:{thread_id}", actor_id=by_id,
                actor_name=str(by.get("name") or ""), thread_id=thread_id, quote=quote)])

        try:
            self.inbox.wake(await asyncio.to_thread(write))
        except Exception:
            log.exception("doc %s: the assignment's notification was not written", doc.id)

    async def text_mentions(self, doc_id: str, indexed: Any) -> None:
        """The search index read `doc_id`'s text (server/search.py): tell each person it
        @mentions more often than ever before (who wrote the mention is not recorded in the
        text: the notification names the document)."""
        mentions = getattr(indexed, "mentions", None)
        if not mentions:
            return
        # only people mentioned more often than this process last saw are looked at (the
        # database decides whether that is more than ever): an index pass of a document full of
        # mentions costs no queries when they did not change
        seen = self._text_counts.pop(doc_id, {})
        self._text_counts[doc_id] = {user_id: found.count for user_id, found in mentions.items()}
        while len(self._text_counts) > TEXT_COUNTS_KEPT:
            del self._text_counts[next(iter(self._text_counts))]
        more = {user_id: found for user_id, found in mentions.items()
                if found.count > seen.get(user_id, 0)}
        if not more:
            return

        def write() -> list[str]:
            doc = get_document(self.engine, doc_id=doc_id)
            if doc is None:
                return []
            events = [notifications.Event(
                user_id=user_id, doc_id=doc_id, kind="mention",
                event_key=f"text:{doc_id}:{found.count}", quote=found.passage)
                for user_id, found in more.items()
                if get_user(self.engine, user_id=user_id) is not None
                and can_read(self.engine, doc, user_id)]
            # "more often than ever before": the count in the key; lower counts were written
            # when the text had them, so only a new high is new
            return notifications.add_new_highs(self.engine, events)

        try:
            self.inbox.wake(await asyncio.to_thread(write))
        except Exception:
            log.exception("doc %s: notifications for mentions in the text were not written", doc_id)

    async def shared(self, doc: Document, *, user_id: str, role: str, share_id: str,
                     by_id: str | None) -> None:
        """`doc` was shared with the account `user_id` by `by_id`."""
        if user_id == by_id:
            return

        def write() -> list[str]:
            by = get_user(self.engine, user_id=by_id) if by_id else None
            return notifications.add(self.engine, [notifications.Event(
                user_id=user_id, doc_id=doc.id, kind="share", event_key=f"share:{share_id}",
                actor_id=by_id, actor_name=by.display_name if by else "",
                quote=doc.title, excerpt=f"as {role}")])

        try:
            self.inbox.wake(await asyncio.to_thread(write))
        except Exception:
            log.exception("doc %s: the invitation's notification was not written", doc.id)
