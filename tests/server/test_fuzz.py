"""Protocol fuzzing: hypothesis throws thousands of random and mutated frames at a live room.

One server (in process, SQLite) serves the whole run on an event loop this module owns; the
`@given` function replays each example on that loop (no async fixtures inside `@given`). Every
fuzz frame is followed by a probe (a sync step 1, answered by a sync step 2 only after everything
before it was handled), so each frame's fate is known exactly: accepted (the probe is answered)
or refused (its connection is closed, and the code must be 1003, 1007 or 1009). Meanwhile three
well-behaved clients stay connected — a seeder (wrote the initial content), a writer (keeps
editing) and an observer — and must never be disconnected nor receive a frame a browser could
not parse.

The oracle: `expected` = initial content + the writer's and observer's edits + the payload of
every accepted sync frame. At the end the server's doc, every connected client, a fresh client
and the doc reloaded from the database must all equal it.

Some frames are held back (counted, not sent), recognised *before* sending on a `shadow`
replica kept in lockstep with the oracle: updates that fail part-way inside pycrdt (by design
the room is then discarded and every client resyncs, which test_update_that_fails_part_way_*
covers on its own), updates on which pycrdt panics (contained the same way; pinned by
test_update_that_panics_in_pycrdt_is_contained) and accepted forged updates that split replicas
(a pycrdt bug the gate now keeps away, see test_updates_that_broke_pycrdt_never_reach_it). The shadow is a good but
not a perfect predictor (it never sees the refused frames, and pycrdt's own iteration order is
not fixed): a panic or part-way failure it missed is counted and the run goes on with a new
document.

Forged content only ever uses the seeder's, the server's or fresh random client ids, and never
the writer's or observer's roots: a forged (pending) delete set could otherwise legitimately hit
their future edits.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import time
from pathlib import Path

import httpx
import pytest
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pycrdt import (
    Decoder,
    Doc,
    Map,
    Text,
    XmlElement,
    XmlFragment,
    XmlText,
    write_message,
    write_var_uint,
)

from crdt.authors import AUTHORS
from crdt.gate import Decision, Gate
from crdt.protocol import ProtocolError
from crdt.room import SERVER
from crdt.update_format import UpdateError, parse_update
from server.config import Settings
from storage.updates import load_updates
from tests.support.servers import run_server
from tests.support.yclient import YClient, decode_state_vector, eventually, joined

MAX_MESSAGE = 64 * 1024  # the fuzz server's frame limit, so 1009 is cheap to reach
EXAMPLES = int(os.environ.get("QUIRE_FUZZ_EXAMPLES", "600"))
MIN_FRAMES = 2000
# 1008 and 4431: presence limits (crdt/limits.py): one connection throws every frame until
# it is closed, so it may take on more client ids, or send back more states, than a client may
OK_CLOSE_CODES = {1003, 1007, 1008, 1009, 4431}
PROBE = bytes([0, 0]) + write_message(write_var_uint(0))  # sync step 1, empty state vector
ABANDONING = ("panic_escaped", "failed_part_way_unpredicted")  # known bugs after which a new doc is used
WRITER_ROOT, OBSERVER_ROOT = "writer-notes", "observer-notes"  # far from any forged root name
STEP2 = bytes([0, 1])

pytestmark = pytest.mark.timeout(120)


# ---- helpers -------------------------------------------------------------------------------


def content(doc: Doc) -> dict:
    text = doc.get("t", type=Text)
    frag = doc.get("default", type=XmlFragment)
    meta = doc.get("meta", type=Map)
    blocks = []
    for child in frag.children:
        if isinstance(child, XmlElement):
            blocks.append((child.tag, sorted(dict(child.attributes).items()),
                           [c.diff() if isinstance(c, XmlText) else str(c)
                            for c in child.children]))
        else:
            blocks.append(("#text", [], [child.diff() if isinstance(child, XmlText) else ""]))
    extra = {name: doc.get(name, type=Text).diff() for name in (WRITER_ROOT, OBSERVER_ROOT)}
    return {"text": str(text), "text_diff": text.diff(), "blocks": blocks,
            "meta": map_entries(meta), **extra}


def map_entries(ymap: Map) -> list[tuple[str, str]]:
    entries = []
    for key in list(ymap.keys()):
        try:  # forged updates can leave keys that iterate but do not read back
            value = json.dumps(ymap[key], sort_keys=True, default=repr)
        except KeyError:
            value = "<unreadable>"
        entries.append((key, value))
    return sorted(entries)


def describe_divergence(expected: Doc, server_doc: Doc, clients: dict[str, YClient]) -> str:
    want = content(expected)
    want_sv = decode_state_vector(expected.get_state())
    lines = ["the document diverged from the oracle:"]
    for name, doc in [("server", server_doc)] + [(n, c.doc) for n, c in clients.items()]:
        got = content(doc)
        for key in want:
            if got[key] != want[key]:
                lines.append(f"  {name}.{key}: {got[key]!r}\n    expected {want[key]!r}")
        sv = decode_state_vector(doc.get_state())
        if sv != want_sv:
            lines.append(f"  {name} state vector differs (client: got, expected): " + str({
                c: (sv.get(c), want_sv.get(c)) for c in set(sv) | set(want_sv)
                if sv.get(c) != want_sv.get(c)}))
    return "\n".join(lines)


def fold_authors_record(server_doc: Doc, expected: Doc) -> None:
    """The server records which account each Yjs client id is (crdt/authors.py): changes of
    its own that the oracle does not model. Check that they are only that — entries of the
    "authors" map made by the room's own client — and fold them into the oracle."""
    extra = parse_update(server_doc.get_update(expected.get_state()))
    for struct in extra.structs:
        assert struct.client == server_doc.client_id, f"an unexpected item of {struct.client}"
        assert struct.parent == AUTHORS and struct.key and struct.key.isdigit(), struct
    assert not [d for d in extra.deletes if d[0] == server_doc.client_id], extra.deletes
    expected.apply_update(server_doc.get_update(expected.get_state()))


def sync_payload(frame: bytes | str) -> bytes | None:
    """The update in a sync step 2 / update frame that the server's parser accepts, else None."""
    if not isinstance(frame, bytes) or len(frame) < 2 or frame[0] != 0 or frame[1] not in (1, 2):
        return None
    decoder = Decoder(frame[2:])
    try:
        length = decoder.read_var_uint()
    except (IndexError, RuntimeError):
        return None
    if length != decoder.length:
        return None
    return frame[2 + decoder.i0:]


def strict_json(text: str):
    """JSON as a browser's JSON.parse reads it: NaN and Infinity are syntax errors."""
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def check_awareness_frame(message: bytes) -> None:
    """Every state in an awareness frame from the server must parse for y-protocols."""
    payload = Decoder(message[1:]).read_message()
    decoder = Decoder(payload)
    for _ in range(decoder.read_var_uint()):
        decoder.read_var_uint()
        decoder.read_var_uint()
        strict_json(decoder.read_var_string())  # y-protocols: JSON.parse(readVarString())


def browser_check(client: YClient) -> None:
    for message in client.received:
        if message[0] == 1:
            check_awareness_frame(message)


# ---- strategies ----------------------------------------------------------------------------

BASE: dict[str, bytes] = {}  # filled by the test before the strategies are drawn from

# floats include NaN and ±inf: json.dumps writes them as NaN/Infinity, which the server must
# refuse (a browser's JSON.parse cannot read them; see browser_check)
JSON_LEAF = (st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats()
             | st.text(max_size=8))
JSON = st.recursive(JSON_LEAF, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
BMP_TEXT = st.text(st.characters(max_codepoint=0xFFFF, exclude_categories=["Cs"]), min_size=1,
                   max_size=6)
# pycrdt's Text indexes are not str indexes once non-ASCII text is in (len() counts UTF-8
# bytes): Text "t" edits stay ASCII, non-ASCII goes into new blocks and meta values only
ASCII_TEXT = st.text(st.characters(min_codepoint=32, max_codepoint=126), min_size=1, max_size=6)
CLIENT_IDS = st.integers(1, 2**32) | st.sampled_from([0, 2**53 - 1, 2**53, 2**64])


@st.composite
def awareness_payload(draw) -> bytes:
    entries = draw(st.integers(0, 3))
    out = bytearray(write_var_uint(entries))
    for _ in range(entries):
        out += write_var_uint(draw(CLIENT_IDS))
        out += write_var_uint(draw(st.integers(0, 2**20) | st.sampled_from([2**53, 2**70])))
        kind = draw(st.sampled_from(["object", "object", "null", "empty", "json", "text"]))
        if kind == "object":
            state = json.dumps(draw(st.dictionaries(st.text(max_size=8), JSON, max_size=4)),
                               ensure_ascii=draw(st.booleans()))
        elif kind == "null":
            state = "null"
        elif kind == "empty":
            state = ""
        elif kind == "json":
            state = json.dumps(draw(JSON))
        else:
            state = draw(st.text(max_size=24))
        out += write_message(state.encode("utf-8"))
    return bytes(out)


@st.composite
def state_vector(draw) -> bytes:
    choice = draw(st.sampled_from(["base", "empty", "random", "bytes"]))
    if choice == "base":
        return BASE["sv"]
    if choice == "empty":
        return write_var_uint(0)
    if choice == "random":
        pairs = draw(st.lists(st.tuples(CLIENT_IDS, st.integers(0, 2**40)), max_size=4))
        return write_var_uint(len(pairs)) + b"".join(
            write_var_uint(c) + write_var_uint(k) for c, k in pairs)
    return draw(st.binary(max_size=24))


@st.composite
def scratch_update(draw) -> bytes:
    """A valid update from a new peer that starts at the seeded content and edits it:
    inserts, deletes and formatting on the Text, blocks and marks in the XmlFragment, meta."""
    doc = Doc(client_id=draw(st.integers(1, 2**32)))
    doc.apply_update(BASE["state"])
    before = doc.get_state()
    text = doc.get("t", type=Text)
    frag = doc.get("default", type=XmlFragment)
    meta = doc.get("meta", type=Map)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["ins", "del", "fmt", "block", "unblock", "xins", "meta"]))
        n = len(text)
        at = draw(st.integers(0, 1000))
        if op == "ins":
            text.insert(at % (n + 1), draw(ASCII_TEXT),
                        draw(st.none() | st.just({"bold": True})))
        elif op == "del" and n:
            del text[at % n:min(n, at % n + draw(st.integers(1, 5)))]
        elif op == "fmt" and n:
            text.format(at % n, min(n, at % n + 3), {"italic": draw(st.booleans()) or None})
        elif op == "block":
            frag.children.insert(at % (len(frag.children) + 1),
                                 XmlElement("paragraph", {"n": str(at)},
                                            [XmlText(draw(BMP_TEXT))]))
        elif op == "unblock" and len(frag.children):
            del frag.children[at % len(frag.children)]
        elif op == "xins" and len(frag.children):
            block = frag.children[at % len(frag.children)]
            if isinstance(block, XmlElement) and len(block.children):
                xt = block.children[0]
                if isinstance(xt, XmlText):
                    xt.insert(0, "x", {"bold": {}})
        elif op == "meta":
            meta[draw(st.sampled_from(["title", "k"]))] = draw(JSON)
    if draw(st.booleans()):
        return doc.get_update(before)
    return doc.get_update()


def sync_frame(sub: int, payload: bytes) -> bytes:
    return bytes([0, sub]) + write_message(payload)


VALID_FRAMES = st.one_of(
    st.builds(lambda sv: sync_frame(0, sv), state_vector()),
    st.builds(sync_frame, st.sampled_from([1, 2]), scratch_update()),
    st.builds(sync_frame, st.sampled_from([1, 2]),
              st.sampled_from(["state", "title"]).map(lambda k: BASE[k])),
    st.builds(lambda p: bytes([1]) + write_message(p), awareness_payload()),
    st.just(bytes([3])),
)
HEADERS = st.sampled_from([b"", b"\x00", b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x00\x03",
                           b"\x01", b"\x02", b"\x03", b"\x04", b"\x64", b"\xff"])


@st.composite
def mutated(draw) -> bytes:
    frame = bytearray(draw(VALID_FRAMES))
    for _ in range(draw(st.integers(1, 3))):
        how = draw(st.sampled_from(["flip", "flip", "truncate", "append", "insert", "drop",
                                    "type", "prefix", "splice"]))
        if how == "flip" and frame:
            i = draw(st.integers(0, len(frame) - 1))
            frame[i] ^= 1 << draw(st.integers(0, 7))
        elif how == "truncate" and frame:
            del frame[draw(st.integers(0, len(frame) - 1)):]
        elif how == "append":
            frame += draw(st.binary(min_size=1, max_size=16))
        elif how == "insert":
            i = draw(st.integers(0, len(frame)))
            frame[i:i] = draw(st.binary(min_size=1, max_size=4))
        elif how == "drop" and len(frame) > 1:
            del frame[draw(st.integers(0, len(frame) - 1))]
        elif how == "type" and frame:
            frame[0] = draw(st.integers(0, 255))
        elif how == "prefix" and len(frame) >= 2:
            # rewrite the length prefix of the payload: off by a little or absurdly large
            head = 1 if frame[0] in (1, 3) else 2
            decoder = Decoder(bytes(frame[head:]))
            with contextlib.suppress(Exception):
                length = decoder.read_var_uint()
                payload = bytes(frame[head + decoder.i0:])
                if draw(st.booleans()):
                    wrong = max(0, length + draw(st.sampled_from([-3, -2, -1, 1, 2, 3])))
                else:
                    wrong = draw(st.sampled_from([2**31, 2**53, 2**64 + 1]))
                frame = bytearray(frame[:head]) + write_var_uint(wrong) + payload
        elif how == "splice":
            other = draw(VALID_FRAMES)
            cut = draw(st.integers(0, len(frame)))
            frame = frame[:cut] + other[draw(st.integers(0, len(other))):]
    return bytes(frame)


HUGE_VARINT = st.builds(
    lambda head, n, tail: head + b"\xff" * n + tail,
    st.sampled_from([b"\x00\x00", b"\x00\x01", b"\x00\x02", b"\x01", b"\x01\x01\x01"]),
    st.integers(5, 60), st.binary(max_size=8))
RANDOM = st.builds(lambda head, body: head + body, HEADERS, st.binary(max_size=48))
OVERSIZE = st.builds(
    lambda sub, n: bytes([0, sub]) + write_message(b"\x00" * n),
    st.sampled_from([1, 2]), st.integers(MAX_MESSAGE - 8, MAX_MESSAGE + 64))
FRAMES = st.one_of(
    mutated(), mutated(), mutated(), RANDOM, RANDOM, HUGE_VARINT, VALID_FRAMES,
    st.text(max_size=16),  # text frames: 1003
    OVERSIZE,
)


# ---- the harness -----------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    """Collects ERROR records from the server for failure messages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.setFormatter(logging.Formatter("%(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def text(self, since: int = 0) -> str:
        return "\n".join(self.format(r) for r in self.records[since:])


class Oracle:
    """The expected document, plus replicas used to try a frame before it is sent:

    - `gate` judges every update as the server's room does (crdt/gate.py), fed with what the
      expected document integrates: it predicts which updates are refused, held back (they
      need changes the document does not have: applied once those arrive, dropped when the
      fuzz connection closes) or applied less some deletions;
    - `shadow` gets exactly what the server's doc gets (raw payloads), in lockstep;
    - `mirror` gets what a connected client gets: the shadow's change events.

    A frame is a known bug when pycrdt raises RuntimeError or panics on the shadow, or when,
    after it, the shadow, the mirror and the shadow rebuilt from its own encoding disagree.
    """

    def __init__(self, base: bytes, who: str | None) -> None:
        self.who = who
        self.gate = Gate()
        self.log: list[bytes] = [base]
        self.held: list[bytes] = []
        self.expected = self._replay()
        self.gate.load(self.expected.get_update())
        self.expected.observe(lambda event: self.gate.learn(event.update))
        self._rebuild()
        self.shadow_ahead = False
        self.pending: bytes | None = None  # what the gate lets through of the frame in flight

    def predict(self, payload: bytes) -> str | None:
        """What the server's gate does with `payload` from the fuzz connection: None when it
        is applied (`pending` holds what is), else "closed <code>", "held" or "not applied"."""
        self.pending = None
        if payload == b"\x00\x00":
            self.pending = payload
            return None
        try:
            checked = self.gate.check(payload, role="owner", who=self.who)
        except UpdateError as exc:
            return "closed 1007" if exc.malformed else "closed 4400"
        if checked.decision is Decision.HOLD:
            return "held"
        if checked.decision is not Decision.APPLY:
            return "not applied"
        self.pending = checked.update
        return None

    def connection_closed(self) -> None:
        self.held.clear()  # the server forgets what a closed connection had waiting

    def release_held(self) -> None:
        """As the room does after each applied client update."""
        progress = True
        while progress and self.held:
            progress = False
            while self.held:
                try:
                    checked = self.gate.check(self.held[0], role="owner", who=self.who)
                except UpdateError:
                    self.held.pop(0)
                    continue
                if checked.decision is Decision.HOLD:
                    break
                self.held.pop(0)
                if checked.decision is Decision.APPLY:
                    self.add(checked.update, release=False)
                    progress = True

    def _replay(self) -> Doc:
        doc = Doc()
        for update in self.log:
            doc.apply_update(update)
        return doc

    def _rebuild(self) -> None:
        self.shadow = self._replay()
        self.mirror = Doc()
        self.mirror.apply_update(self.shadow.get_update())
        self._events: list[bytes] = []
        self.shadow.observe(lambda event: self._events.append(event.update))

    def _apply_to_shadow(self, update: bytes) -> None:
        del self._events[:]
        try:
            self.shadow.apply_update(update)
        finally:
            events, self._events[:] = list(self._events), []
        for event in events:
            self.mirror.apply_update(event)

    def add(self, update: bytes, *, release: bool = True) -> None:
        """An update the server applied (a legitimate edit or an accepted fuzz frame)."""
        self.log.append(update)
        self.expected.apply_update(update)
        if self.shadow_ahead:
            self.shadow_ahead = False  # the shadow already has it
        else:
            self._apply_to_shadow(update)
        if release:
            self.release_held()

    def refused(self) -> None:
        if self.shadow_ahead:  # pycrdt took it but the server did not: resync the replicas
            self.shadow_ahead = False
            self._rebuild()

    def known_bug(self, payload: bytes) -> str | None:
        """Try `payload` on the replicas. None if it is clean (accepted, or refused with
        ValueError and no side effect); else the known bug it triggers (replicas rebuilt)."""
        assert not self.shadow_ahead
        try:
            self._apply_to_shadow(payload)
        except ValueError:
            return None
        except RuntimeError:
            bug = "fails_part_way"
        except BaseException as exc:  # pyo3_runtime.PanicException is a BaseException
            if type(exc).__name__ != "PanicException":
                raise
            bug = "panics"
        else:
            if payload == b"\x00\x00":
                self.shadow_ahead = True
                return None
            roundtrip = Doc()
            roundtrip.apply_update(self.shadow.get_update())
            state = content(self.shadow)
            if content(roundtrip) == state and content(self.mirror) == state:
                self.shadow_ahead = True
                return None
            bug = "splits_replicas"
        self._rebuild()
        return bug


class Harness:
    """A live server, three well-behaved clients, the fuzz connection and the oracle."""

    def __init__(self, tmp_path: Path) -> None:
        self.errors = ErrorLog()
        logging.getLogger().addHandler(self.errors)
        self.tmp_path = tmp_path
        self.stack = contextlib.AsyncExitStack()
        self.fuzz_ws = None
        self.frames = 0
        self.accepted = 0
        self.refused: dict[int, int] = {}
        self.known_bugs: dict[str, int] = {}
        self.connections = 0
        self.writer_edits = 0

    async def start(self) -> None:
        # the probe asks for sync step 1 after every frame, which no client does: unlimited
        settings_ = Settings(database_url=f"sqlite:///{self.tmp_path / 'fuzz.db'}",
                             unload_after=60, max_message_bytes=MAX_MESSAGE, compact_every=200,
                             sync_requests_per_second=1e9, sync_request_burst=10**9,
                             query_awareness_per_second=1e9, query_awareness_burst=10**9)
        self.server = await self.stack.enter_async_context(run_server(settings_))
        logging.getLogger("uvicorn.error").addHandler(self.errors)  # it does not propagate
        await self.open_document()

    async def open_document(self) -> None:
        """A new document with seeded content, three bystanders and a fresh oracle."""
        self.doc_id = await self.server.new_doc("fuzz")
        self.seeder = await self._client()
        text = self.seeder.doc.get("t", type=Text)
        text.insert(0, "Hello fuzzy world")
        text.format(0, 5, {"bold": True})
        frag = self.seeder.doc.get("default", type=XmlFragment)
        frag.children.append(XmlElement("heading", {"level": "1"}, [XmlText("Title")]))
        frag.children.append(XmlElement("paragraph", {}, [XmlText("body")]))
        frag.children[1].children[0].insert(4, " bold", {"bold": {}})
        self.observer = await self._client()
        self.writer = await self._client()
        await eventually(lambda: content(self.writer.doc) == content(self.seeder.doc)
                         and content(self.observer.doc) == content(self.seeder.doc))
        await self.observer.set_user({"user": {"name": "Observer", "color": "#3366aa"}})
        BASE["state"] = self.seeder.doc.get_update()
        BASE["sv"] = self.seeder.doc.get_state()
        BASE["title"] = self.server.rooms.open_room(self.doc_id).doc.get_update(
            write_var_uint(0))
        self.oracle = Oracle(BASE["state"], self.server.rooms.open_room(self.doc_id) and next(
            (c.account for c in self.server.rooms.open_room(self.doc_id).connections), None))
        self.writer_text = self.writer.doc.get(WRITER_ROOT, type=Text)
        known = decode_state_vector(BASE["sv"])
        assert self.writer.doc.client_id not in known
        assert self.observer.doc.client_id not in known

    async def logged_panic(self, since: int) -> bool:
        """Whether the server logged a pyo3 panic (uvicorn logs it just after the close)."""
        for _ in range(50):
            if any(r.exc_info and r.exc_info[0] and r.exc_info[0].__name__ == "PanicException"
                   for r in self.errors.records[since:]):
                return True
            await asyncio.sleep(0.01)
        return False

    async def abandon_document(self, bug: str) -> None:
        """After a known bug the shadow did not predict, the document's state is beyond the
        oracle: count it and go on with a new document (the final checks still prove the server
        serves, syncs and stores correctly)."""
        self.known_bugs[bug] = self.known_bugs.get(bug, 0) + 1
        assert sum(self.known_bugs.get(k, 0) for k in ABANDONING) <= 5, self.known_bugs
        for client in (self.seeder, self.observer, self.writer):
            await client.close()
        await self.open_document()

    async def _client(self) -> YClient:
        client = YClient(self.server.ws(self.doc_id))
        await client.connect()
        await client.wait_synced()
        return client

    def edit(self, client: YClient, change) -> None:
        """A legitimate edit, mirrored into the oracle (no await in between, so the delta holds
        only this edit)."""
        before = client.doc.get_state()
        change()
        self.oracle.add(client.doc.get_update(before))

    def writer_edit(self) -> None:
        text, n, i = self.writer_text, len(self.writer_text), self.writer_edits
        if n > 40 and i % 3 == 0:
            self.edit(self.writer, lambda: text.__delitem__(slice(n - 7, n - 2)))
        else:
            self.edit(self.writer, lambda: text.insert(n // 2, f"<{i}>",
                                                       {"bold": True} if i % 2 else None))
        self.writer_edits += 1

    def assert_bystanders_ok(self) -> None:
        for name in ("seeder", "observer", "writer"):
            client = getattr(self, name)
            assert not client.closed.is_set(), (
                f"the {name} was disconnected: {client.close_code} {client.close_reason}")

    async def throw(self, frame: bytes | str) -> str:
        """Send one frame and learn its fate: "accepted" or "closed <code>" (or "known bug")."""
        payload = sync_payload(frame)
        fate = None
        if payload is not None:
            fate = self.oracle.predict(payload)
            if fate is None:
                payload = self.oracle.pending
                bug = self.oracle.known_bug(payload)
                if bug is not None:
                    self.known_bugs[bug] = self.known_bugs.get(bug, 0) + 1
                    return "known bug"
        if self.fuzz_ws is None:
            self.fuzz_ws = await websockets.connect(self.server.ws(self.doc_id), max_size=None,
                                                    compression=None, proxy=None)
            self.connections += 1
        ws = self.fuzz_ws
        self.frames += 1
        errors_before = len(self.errors.records)
        # the probe's answer is small: only what the oracle does not know yet
        probe = bytes([0, 0]) + write_message(self.oracle.expected.get_state())
        step2_wanted = 2 if isinstance(frame, bytes) and frame[:2] == b"\x00\x00" else 1
        try:
            await ws.send(frame)
            await ws.send(probe)
        except websockets.ConnectionClosed:
            pass
        try:
            while step2_wanted:
                message = await asyncio.wait_for(ws.recv(), 10)
                if isinstance(message, bytes) and message[:2] == STEP2:
                    step2_wanted -= 1
        except websockets.ConnectionClosed:
            self.fuzz_ws = None
            self.oracle.refused()
            self.oracle.connection_closed()
            code = ws.close_code
            self.refused[code] = self.refused.get(code, 0) + 1
            if fate is not None and fate.startswith("closed"):
                # (a frame over the size limit is closed with 1009 before it is read at all)
                assert fate == f"closed {code}" or code == 1009, (frame, fate, code,
                                                                  ws.close_reason)
                return fate
            if code == 1000 and await self.logged_panic(errors_before):
                # test_update_that_panics_in_pycrdt_is_contained: not predicted this time
                del self.errors.records[errors_before:]
                await self.abandon_document("panic_escaped")
                return "known bug"
            if code == 4400 and payload is not None and fate is None:
                # an update that failed part-way inside pycrdt, as designed: the room was
                # discarded and the bystanders were closed to resync (tested on its own in
                # test_update_that_fails_part_way_leaves_no_trace)
                del self.errors.records[errors_before:]
                await self.abandon_document("failed_part_way_unpredicted")
                return "known bug"
            assert code in OK_CLOSE_CODES, (
                f"frame {frame!r} closed its connection with {code} {ws.close_reason!r}; "
                f"server errors: {self.errors.text(errors_before) or 'none'}")
            return f"closed {code}"
        except TimeoutError:
            raise AssertionError(f"frame {frame!r}: no answer and no close within 10 s") from None
        assert fate is None or not fate.startswith("closed"), (frame, fate, "but accepted")
        if fate == "held":
            self.oracle.held.append(payload)
            return fate
        if fate is not None:
            return fate
        self.accepted += 1
        if payload is not None:
            self.oracle.add(payload)
        return "accepted"

    async def example(self, frames: list[bytes | str], index: int) -> None:
        if index % 4 == 0:
            self.writer_edit()
        for frame in frames:
            await self.throw(frame)
        self.assert_bystanders_ok()

    async def finish(self) -> dict:
        server, doc_id = self.server, self.doc_id
        async with httpx.AsyncClient(base_url=server.http) as http:  # /healthz needs no account
            health = await http.get("/healthz")
            assert health.status_code == 200, health.text
        if self.fuzz_ws is not None:
            await self.fuzz_ws.close()
        self.assert_bystanders_ok()
        # the bystanders keep syncing, both ways
        notes = self.observer.doc.get(OBSERVER_ROOT, type=Text)
        for i in range(5):
            self.writer_edit()
            self.edit(self.observer, lambda i=i: notes.insert(0, f"[{i}]"))
            await asyncio.sleep(0)
        room = server.rooms.open_room(doc_id)
        assert room is not None
        expected = self.oracle.expected
        await asyncio.sleep(0.3)  # the last edits' records, if any, are made
        fold_authors_record(room.doc, expected)
        want = content(expected)
        bystanders = {"seeder": self.seeder, "observer": self.observer, "writer": self.writer}
        try:
            # (compare decoded state vectors: their encoding follows hash-map order)
            await eventually(lambda: all(content(c.doc) == want for c in bystanders.values())
                             and decode_state_vector(room.doc.get_state())
                             == decode_state_vector(expected.get_state()), timeout=10)
        except AssertionError:
            raise AssertionError(describe_divergence(expected, room.doc, bystanders)) from None
        assert content(room.doc) == want
        assert decode_state_vector(room.doc.get_state()) == decode_state_vector(
            expected.get_state())
        # a fresh client gets the same document
        fresh = await self._client()
        assert content(fresh.doc) == want, describe_divergence(expected, room.doc,
                                                               {"fresh": fresh})
        await fresh.close()
        # and so does the database
        await room.drain()
        stored = await asyncio.to_thread(load_updates, server.app.state.engine, doc_id=doc_id)
        reloaded = Doc()
        for update in stored.updates:
            reloaded.apply_update(update)
        assert content(reloaded) == want
        # no bystander ever received a frame a browser could not parse
        for client in bystanders.values():
            browser_check(client)
        self.assert_bystanders_ok()
        return {"frames": self.frames, "accepted": self.accepted, "refused": self.refused,
                "connections": self.connections, "writer_edits": self.writer_edits,
                "frames_held_back": self.known_bugs}

    async def close(self) -> None:
        logging.getLogger().removeHandler(self.errors)
        logging.getLogger("uvicorn.error").removeHandler(self.errors)
        for name in ("seeder", "observer", "writer"):
            client = getattr(self, name, None)
            if client is not None:
                await client.close()
        await self.stack.aclose()


@contextlib.contextmanager
def owned_loop():
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


# frames every run throws first, whatever hypothesis draws
CLASSICS: list[bytes | str] = [
    b"", b"\x00", b"\x00\x00", b"\x00\x02", b"\x01", b"\x03\x00", b"\x02\x00\x00", b"\x64\x00",
    "text frame", bytes([0, 2]) + b"\xff" * 40 + b"\x01",
    bytes([0, 2]) + write_var_uint(2**64) + b"\x00",
    bytes([0, 1]) + write_message(b"\x00\x00"),
    bytes([0, 2]) + write_message(b"\x00" * (MAX_MESSAGE + 1)),  # over the app's limit: 1009
    bytes([0, 2]) + write_message(b"\x00" * (MAX_MESSAGE + 2 * 1024 * 1024)),  # over uvicorn's
]


def test_fuzz_frames_against_a_live_room(tmp_path, record_property):
    started = time.perf_counter()
    with owned_loop() as loop:
        harness = Harness(tmp_path)
        try:
            loop.run_until_complete(harness.start())
            loop.run_until_complete(harness.example(CLASSICS, 1))
            count = iter(range(10**9))

            @settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                             HealthCheck.filter_too_much,
                                             HealthCheck.large_base_example])
            @given(frames=st.lists(FRAMES, min_size=3, max_size=7))
            def fuzz(frames):
                loop.run_until_complete(harness.example(frames, next(count)))

            fuzz()
            stats = loop.run_until_complete(harness.finish())
        finally:
            loop.run_until_complete(harness.close())
    stats["seconds"] = round(time.perf_counter() - started, 1)
    for key, value in stats.items():
        record_property(key, value)
    assert not harness.errors.records, harness.errors.text()
    assert stats["frames"] >= MIN_FRAMES, stats


# ---- the known bugs and edge cases, pinned down one frame at a time ------------------------

# three updates found by this fuzzer and shrunk: pycrdt took the first two and panicked
# (`Option::unwrap()` on a `None` value, in the transaction commit) on the third
PANIC_UPDATES = [
    bytes.fromhex(
        "01030e0087ae111b03017007000e000604000e01017100"),
    bytes.fromhex(
        "030fae11000401017402486584ae1101036c6c6f84ae11040c2066757a7a7920776f726c6446ae110004626f"
        "6c640474727565c6ae1104ae110504626f6c64046e756c6c07010764656661756c74030768656164696e6728"
        "00ae1113056c6576656c017701310700ae1113060400ae1115055469746c6587ae1113030970617261677261"
        "70680700111b060400111c04626f647986112004626f6c64027b7d8411210520626f6c6486112604626f6c64"
        "046e756c6c0108002801046d657461057469746c6501770466757a7a08160086111004626f6c640474727565"
        "84160002787986160204626f6c64046e756c6cc411011102027879111b030170070016060604007461016b01"
        "7c40400000"),
    bytes.fromhex(
        "01010e0028010465653441000000"),
]
# three forged updates pycrdt accepts, after which the document depends on the order its
# updates were applied in: the server's live doc and a doc built from its own encoding differ
DIVERGING_UPDATES = [
    bytes.fromhex(
        "0301040028657461057469746c6501770466757a7a0a0100040101740548656c6c6f8401040c2066757a7a79"
        "20776f726c6446010004626f6c640474727565c60104010504626f6c64046e756c6c07010764656661756c74"
        "030768656164696c6576656c01770131070001130604000115055469746c6591011301000c010200000400"),
    bytes.fromhex(
        "0301040028657461057469746c6501770466757a7a100100040101740548656c6c6f840104052066757a7a91"
        "01090184010a0620776f726c6446010004626f6c640474727565c60104010504626f6c64046e756c6c070107"
        "64656661756c74030768656164696e6728000113056c6576656c01770131070001130604000115055469746c"
        "6587011303097061726167726170680700011b060400011c04626f647986012004626f6c64027b7d84012105"
        "20626f6c6486012604626f6c64046e756c6c040200c6010a010b04626f6c64047472756591010b01c4020191"
        "9a8a8882ddf5010b057971403e2fc60206010b04626f6c64046e756c6c020201010101010a01"),
    bytes.fromhex(
        "0301040021657461057469746c65010f919a8a8882ddf50100040101740548656c6c6f84919a8a8882ddf501"
        "04012084919a8a8882ddf501050b66757a7a7920776f726c644691010004626f6c640474727565c601040105"
        "04626f6c64046e756c6c07010764656661756c74030768656164696e6728000113056c6576656c0177013107"
        "0001130604000115055469746c6587011303097061726167726170680700011b060400011c04626f64798601"
        "2004626f6c64027b7d8401210520626f6c6486012604626f6c64046e756c6c051200c60105f5010604626f6c"
        "640474727565c4120001060144c61201010604626f6c64046e756c6c0175027701447e44010100"),
]
# a client-1 string "ab" in Text "t"; then an update whose first item (client 2: "Z" into "t")
# is valid and whose second claims the string item (1, 0) as its parent: pycrdt applies "Z",
# then raises RuntimeError ("block parent <1#0> must be deleted or shared ref type")
AB_BY_CLIENT_1 = bytes.fromhex("010101000401017402616200")
HALF_VALID_UPDATE = bytes.fromhex("0102020004010174015a04000100017800")


async def raw_socket(server, doc_id: str):
    return await websockets.connect(server.ws(doc_id), max_size=None, compression=None,
                                    proxy=None)


async def send_and_probe(ws, frame: bytes | str) -> int | None:
    """Send a frame and a probe; None once the probe is answered, else the close code."""
    try:
        await ws.send(frame)
        await ws.send(PROBE)
        while (await asyncio.wait_for(ws.recv(), 5))[:2] != STEP2:
            pass
    except websockets.ConnectionClosed:
        return ws.close_code
    return None



async def test_update_that_fails_part_way_leaves_no_trace(server):
    """An update whose second item hangs under a character instead of a shared type: pycrdt
    applies the first item, then fails. The gate refuses it whole before pycrdt reads it (the
    sender is closed for good, 4400; the bystander is untouched). Should such an update still
    reach the doc (a server-side change bypasses the gate), the half that pycrdt applied must
    not survive: the room is discarded and everyone resyncs from what was stored."""
    doc_id = await server.new_doc()
    ws = await raw_socket(server, doc_id)
    assert await send_and_probe(ws, sync_frame(2, AB_BY_CLIENT_1)) is None
    bystander = await joined(server, doc_id)
    assert str(bystander.doc.get("t", type=Text)) == "ab"
    assert await send_and_probe(ws, sync_frame(2, HALF_VALID_UPDATE)) == 4400
    room = server.rooms.open_room(doc_id)
    assert str(room.doc.get("t", type=Text)) == "ab"
    assert not bystander.closed.is_set()
    # past the gate: contained
    with pytest.raises(ProtocolError):
        room.apply(HALF_VALID_UPDATE, SERVER)
    await asyncio.wait_for(bystander.closed.wait(), 5)  # resync: the room was discarded
    assert bystander.close_code not in (4400, 1000), bystander.close_code
    assert "Z" not in str(bystander.doc.get("t", type=Text))  # nothing half-applied was relayed
    fresh = await joined(server, doc_id)
    assert str(fresh.doc.get("t", type=Text)) == "ab"
    stored = await asyncio.to_thread(load_updates, server.app.state.engine, doc_id=doc_id)
    reloaded = Doc()
    for update in stored.updates:
        reloaded.apply_update(update)
    assert str(reloaded.get("t", type=Text)) == "ab"
    await fresh.close()
    await bystander.close()


async def test_updates_that_broke_pycrdt_never_reach_it(server):
    """The updates that made pycrdt panic (PANIC_UPDATES) and those after which replicas
    split (DIVERGING_UPDATES) are stopped by the gate (crdt/gate.py) before pycrdt reads them:
    one that needs items the document does not have is held (it never integrates), an unknown
    content kind closes 1007, a zero-length item closes 4400. The room, its bystander and
    every replica stay as they were."""
    doc_id = await server.new_doc()
    bystander = await joined(server, doc_id)
    bystander.doc.get("t", type=Text).insert(0, "kept")
    room = server.rooms.open_room(doc_id)
    await eventually(lambda: str(room.doc.get("t", type=Text)) == "kept")
    before = room.doc.get_state()
    codes = []
    for update in PANIC_UPDATES + DIVERGING_UPDATES:
        ws = await raw_socket(server, doc_id)
        codes.append(await send_and_probe(ws, sync_frame(2, update)))
        await ws.close()
    assert codes == [None, 1007, 4400, 1007, 1007, None], codes
    assert decode_state_vector(room.doc.get_state()) == decode_state_vector(before)
    assert not bystander.closed.is_set()
    fresh = await joined(server, doc_id)
    try:
        assert content(fresh.doc) == content(room.doc) == content(bystander.doc)
    finally:
        await fresh.close()
        await bystander.close()


@pytest.mark.parametrize("state", ['{"a":NaN}', '{"a":Infinity}', '{"a":-Infinity}',
                                   '{"a":1e999}'])
async def test_awareness_that_a_browser_cannot_parse_is_not_relayed(server, state):
    """Python's json reads NaN and Infinity (and 1e999 as inf) and writes them back; a
    browser's JSON.parse throws on them, and y-protocols' applyAwarenessUpdate then stops
    half-way through the frame: the other users' states after it in that frame are lost (and
    the server batches everyone's changes, and a newcomer's initial states, into one frame).
    Refusing the frame (1007) or dropping the state is fine."""
    doc_id = await server.new_doc()
    bystander = await joined(server, doc_id)
    ws = await raw_socket(server, doc_id)
    entry = write_var_uint(1) + write_var_uint(777) + write_var_uint(1) + write_message(
        state.encode())
    code = await send_and_probe(ws, bytes([1]) + write_message(entry))
    await asyncio.sleep(0.05)  # let any relay reach the bystander
    try:
        assert code in (None, 1007)
        browser_check(bystander)
        newcomer = await joined(server, doc_id)
        await asyncio.sleep(0.05)
        browser_check(newcomer)  # nor is it handed to people who join later
        await newcomer.close()
    finally:
        await ws.close()
        await bystander.close()


async def test_frame_over_the_websocket_limit_is_closed_1009(server):
    doc_id = await server.new_doc()
    bystander = await joined(server, doc_id)
    ws = await raw_socket(server, doc_id)
    limit = server.settings.max_message_bytes
    assert await send_and_probe(ws, sync_frame(2, b"\x00" * (limit + 1))) == 1009
    ws = await raw_socket(server, doc_id)
    assert await send_and_probe(ws, sync_frame(2, b"\x00" * (limit + 2 * 1024 * 1024))) == 1009
    assert not bystander.closed.is_set()
    await bystander.close()
