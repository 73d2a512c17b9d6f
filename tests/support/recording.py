"""In-memory stand-ins for crdt/'s ports, for unit tests of Room, Rooms and Connection:
a Channel that records what the room sends and feeds it frames, and an UpdateStore whose
commits can be held back or made to fail."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from pycrdt import Doc, XmlElement, XmlFragment, XmlText

from crdt.ports import ChannelClosed, Merge
from crdt.protocol import Frame, Kind, parse_frame


class RecordingChannel:
    """One client's channel: `put` frames in, read `sent` (and `frames()`) out."""

    def __init__(self, *, nowait: bool = True) -> None:
        self.inbox: asyncio.Queue[bytes | None] = asyncio.Queue()
        self.sent: list[bytes] = []
        self.closed: tuple[int, str] | None = None
        self.aborted = False
        self.nowait = nowait  # whether `send_nowait` writes (else every frame goes via a task)
        self.blocked: asyncio.Event | None = None  # set: `send` waits for it (a slow reader)

    # ---- the Channel protocol -----------------------------------------------------------------

    async def recv(self) -> bytes:
        message = await self.inbox.get()
        if message is None:
            raise ChannelClosed()
        return message

    async def send(self, message: bytes) -> None:
        if self.blocked is not None:
            await self.blocked.wait()
        if self.closed is not None or self.aborted:
            raise ChannelClosed()
        self.sent.append(message)

    def send_nowait(self, message: bytes) -> bool:
        if not self.nowait or self.blocked is not None:
            return False
        if self.closed is not None or self.aborted:
            return False
        self.sent.append(message)
        return True

    def deliver_to(self, callback: Callable[[bytes], None] | None,
                   read: Callable[[], None] | None = None) -> bool:
        return False

    async def close(self, code: int, reason: str) -> None:
        if self.closed is None:
            self.closed = (code, reason)
        self.inbox.put_nowait(None)

    async def drained(self) -> None:
        return None

    def abort(self) -> bool:
        self.aborted = True
        self.inbox.put_nowait(None)
        return True

    # ---- the test's side ----------------------------------------------------------------------

    def put(self, message: bytes) -> None:
        self.inbox.put_nowait(message)

    def leave(self) -> None:
        self.inbox.put_nowait(None)

    def frames(self, *kinds: Kind) -> list[Frame]:
        """What the room sent, parsed (only `kinds`, if given)."""
        found = [parse_frame(m) for m in self.sent if m[0] in (0, 1)]
        return [f for f in found if not kinds or f.kind in kinds]


class MemoryStore:
    """An UpdateStore in memory. `hold()` makes commits wait until `release()`, and
    `hold_compactions()` compactions until `release_compactions()`; `fail = True` makes
    commits raise."""

    def __init__(self) -> None:
        self.docs: dict[str, list[bytes]] = {}
        self.loads = 0
        self.compactions = 0
        self.fail = False
        self._open: asyncio.Event | None = None
        self._compactions_open: asyncio.Event | None = None
        self.compacting = 0  # compactions under way (held)

    def hold_compactions(self) -> None:
        self._compactions_open = asyncio.Event()

    def release_compactions(self) -> None:
        if self._compactions_open is not None:
            self._compactions_open.set()
            self._compactions_open = None

    def hold(self) -> None:
        self._open = asyncio.Event()

    def release(self) -> None:
        if self._open is not None:
            self._open.set()
            self._open = None

    async def load(self, doc_id: str) -> list[bytes]:
        self.loads += 1
        await asyncio.sleep(0)  # a real store answers later
        return list(self.docs.get(doc_id, []))

    async def append(self, doc_id: str, updates: list[bytes]) -> None:
        while self._open is not None:
            await self._open.wait()
        if self.fail:
            raise OSError("the disk is gone")
        self.docs.setdefault(doc_id, []).extend(updates)

    def append_now(self, doc_id: str, updates: list[bytes]) -> bool:
        if self._open is not None:
            return False
        if self.fail:
            raise OSError("the disk is gone")
        self.docs.setdefault(doc_id, []).extend(updates)
        return True

    async def quarantine(self, doc_id: str, update: bytes, reason: str) -> None:
        pass

    async def compact(self, doc_id: str, merge: Merge) -> None:
        parts = list(self.docs.get(doc_id, []))  # read, then merged while appends go on
        self.compacting += 1
        try:
            while self._compactions_open is not None:
                await self._compactions_open.wait()
        finally:
            self.compacting -= 1
        if len(parts) > 1:
            merged = merge(parts)
            now = self.docs.get(doc_id, [])
            self.docs[doc_id] = [merged, *now[len(parts):]]  # rows appended meanwhile stay
            self.compactions += 1

    def text(self, doc_id: str) -> str:
        """The stored document's first paragraph, as a client would read it after loading."""
        doc: Doc = Doc()
        for update in self.docs.get(doc_id, []):
            doc.apply_update(update)
        return paragraph_text(doc)


def typed(doc: Doc, text: str, at: int = 0) -> bytes:
    """`text` typed into `doc`'s first paragraph (made if missing): the update it makes."""
    before = doc.get_state()
    fragment = doc.get("default", type=XmlFragment)
    if not len(fragment.children):
        fragment.children.append(XmlElement("paragraph", {}, [XmlText()]))
    paragraph = fragment.children[0]
    paragraph.children[0].insert(at, text)
    return doc.get_update(before)


def paragraph_text(doc: Doc) -> str:
    fragment = doc.get("default", type=XmlFragment)
    if not len(fragment.children):
        return ""
    return str(fragment.children[0].children[0])
