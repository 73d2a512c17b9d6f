"""y-websocket frames: classify and validate what a client sent, build what we send.

Frame layout (y-protocols): `[0, 0, varBytes(state vector)]` sync step 1,
`[0, 1, varBytes(update)]` sync step 2, `[0, 2, varBytes(update)]` update,
`[1, varBytes(awareness update)]` awareness, `[3]` query awareness. Server to client only:
`[2, 0, varString(reason)]` permission denied, and Quire's opt-in `[100, varBytes(state vector)]`
"persisted" confirmation.
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from pycrdt import (
    Awareness,
    Decoder,
    YMessageType,
    YSyncMessageType,
    create_awareness_message,
    create_update_message,
    write_message,
    write_var_uint,
)

MSG_QUERY_AWARENESS = 3
MSG_PERSISTED = 100


class CloseCode(IntEnum):
    """Close codes Quire uses. 4400–4499 are terminal for y-websocket clients (no reconnect)."""

    NORMAL = 1000
    ROLE_CHANGED = 3001  # the owner changed this person's role: reconnect and re-read it
    GOING_AWAY = 1001  # server shutting down: reconnect to the restarted server
    UNSUPPORTED_DATA = 1003  # a text frame
    INVALID_DATA = 1007  # a malformed binary frame
    POLICY = 1008
    TOO_BIG = 1009
    TRY_AGAIN_LATER = 1013  # database trouble or a slow consumer: resync after reconnect
    # an update refused as impossible or nested too deep, or one that fails part-way inside
    # the CRDT (terminal: sending it again would fail again)
    INVALID_UPDATE = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    NOT_FOUND = 4404  # unknown document
    GONE = 4410  # the document was deleted
    DOCUMENT_TOO_LARGE = 4413  # the document reached its size limit
    # the page opening the socket is not at the server's origin (QUIRE_PUBLIC_URL,
    # QUIRE_ALLOWED_ORIGINS): cross-site WebSocket hijacking (server/origins.py)
    ORIGIN_REFUSED = 4406
    # presence (crdt/limits.py): a state larger than QUIRE_AWARENESS_STATE_BYTES; its sender
    # would send it again on every reconnect (terminal). Its other limits close with 1008.
    PRESENCE_TOO_LARGE = 4431


# never swallowed when a call into pycrdt fails; everything else it raises (pyo3 panics are
# BaseExceptions) is handled where it is called
FATAL = (KeyboardInterrupt, SystemExit, GeneratorExit, asyncio.CancelledError)


class ProtocolError(Exception):
    """A frame we refuse; the connection that sent it is closed with `code` and `reason`."""

    def __init__(self, reason: str, code: CloseCode = CloseCode.INVALID_DATA) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class Kind(IntEnum):
    SYNC_STEP1 = 0
    SYNC_STEP2 = 1
    SYNC_UPDATE = 2
    AWARENESS = 10
    QUERY_AWARENESS = 11


@dataclass(frozen=True, slots=True)
class Frame:
    kind: Kind
    payload: bytes  # state vector, update or awareness update; b"" for query awareness


class _Decoder(Decoder):
    """pycrdt's Decoder, with lengths and counts read in linear time: pycrdt's `read_var_uint`
    takes any run of continuation bytes, and each one costs more than the last (a 40 KB run
    took 0.3 s; an 8 MiB frame of them would hold the event loop for hours). lib0 writes at most
    53 bits, 8 bytes; a longer one is refused."""

    def read_var_uint(self) -> int:
        stream, start = self.stream, self.i0
        byte = stream[start]  # IndexError past the end, like pycrdt's
        value, i, shift = byte & 127, start, 7
        while byte >= 128:
            if shift > 49:
                raise RuntimeError("variable-length integer longer than 8 bytes")
            i += 1
            byte = stream[i]
            value |= (byte & 127) << shift
            shift += 7
        self.i0 = i + 1
        self.length -= i + 1 - start
        return value


def _read_payload(message: bytes, start: int) -> bytes:
    """The varBytes payload at `start`, which must end the frame (read in one pass, with the
    length prefix bounded as in `_Decoder`)."""
    end = len(message)
    if start >= end:
        raise ProtocolError("truncated length prefix")
    i = start
    byte = message[i]
    length, shift = byte & 127, 7
    while byte >= 128:
        i += 1
        if shift > 49 or i >= end:
            raise ProtocolError("truncated length prefix" if i >= end
                                else "length prefix longer than 8 bytes")
        byte = message[i]
        length |= (byte & 127) << shift
        shift += 7
    i += 1
    if length > end - i:
        raise ProtocolError("payload shorter than its length prefix")
    if length < end - i:
        raise ProtocolError("trailing bytes after the payload")
    return bytes(message[i:])


def parse_frame(message: bytes) -> Frame:
    """Classify one client frame. Raises ProtocolError for anything malformed or unknown."""
    if not message:
        raise ProtocolError("empty frame")
    msg_type = message[0]
    if msg_type == YMessageType.SYNC:
        if len(message) < 2:
            raise ProtocolError("sync frame without a sub-type")
        sub = message[1]
        if sub not in (YSyncMessageType.SYNC_STEP1, YSyncMessageType.SYNC_STEP2,
                       YSyncMessageType.SYNC_UPDATE):
            raise ProtocolError(f"unknown sync sub-type {sub}")
        return Frame(Kind(sub), _read_payload(message, 2))
    if msg_type == YMessageType.AWARENESS:
        # its entries are checked where they are applied, against the room (`fresh_awareness`)
        return Frame(Kind.AWARENESS, _read_payload(message, 1))
    if msg_type == MSG_QUERY_AWARENESS:
        if len(message) != 1:
            raise ProtocolError("trailing bytes after query-awareness")
        return Frame(Kind.QUERY_AWARENESS, b"")
    raise ProtocolError(f"unknown message type {msg_type}")


def _not_json(name: str) -> None:
    # Python reads NaN/Infinity; a browser's JSON.parse throws on them and y-protocols then
    # drops the whole awareness frame, everyone's cursors with it
    raise ProtocolError(f"awareness state holds {name}, which is not JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ProtocolError("awareness state holds a number out of range")
    return value


# made once: json.loads with these arguments builds a decoder on every call
_STATE_JSON = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite_float)

Entry = tuple[int, int, "dict[str, Any] | None"]  # (client id, clock, state or None)

# Bounds for awareness updates read without a room's limits (tests, tools): a frame of the
# largest size (8 MiB) holds fewer entries than this.
MAX_ENTRIES = 1_000_000
MAX_STATE_BYTES = 1 << 20


# what `read_awareness` returns: the entries read, whether those are all the update's entries,
# how many entries the update holds, and how many of those read carry a state (not removals)
AwarenessRead = tuple[list[Entry], bool, int, int]


def validate_awareness(payload: bytes, *, max_entries: int = MAX_ENTRIES,
                       max_state_bytes: int = MAX_STATE_BYTES) -> list[Entry]:
    """Decode an awareness update fully: [(client_id, clock, state or None)]. More than
    `max_entries` entries, or a state longer than `max_state_bytes`, is refused before any
    JSON is decoded."""
    return read_awareness(payload, None, max_entries=max_entries,
                          max_states=max_entries, max_state_bytes=max_state_bytes)[0]


def fresh_awareness(payload: bytes, awareness: Awareness) -> tuple[list[Entry], bool]:
    """The entries of an awareness update that would change `awareness`, and whether that is
    all of them (see `read_awareness`)."""
    entries, every, _, _ = read_awareness(payload, awareness)
    return entries, every


def read_awareness(payload: bytes, awareness: Awareness | None, *, max_entries: int = MAX_ENTRIES,
                   max_states: int = MAX_ENTRIES,
                   max_state_bytes: int = MAX_STATE_BYTES,
                   code: CloseCode = CloseCode.POLICY) -> AwarenessRead:
    """Read the entries of an awareness update that would change `awareness` (all of them
    when it is None). The others are checked for shape but their states are not read: an
    older clock, the same clock without a removal (browsers send back every change they
    receive), or a removal of a state that is not there.

    Limits, checked before any JSON is decoded: at most `max_entries` entries in all (refused
    with `code`), at most `max_states` of those read carrying a state (`code`), and no state
    read longer than `max_state_bytes` (`CloseCode.PRESENCE_TOO_LARGE`)."""
    decoder = _Decoder(payload)
    entries: list[Entry] = []
    states = 0
    meta = awareness.meta if awareness is not None else None
    present = awareness.states if awareness is not None else {}  # read only with `meta`
    try:
        count = decoder.read_var_uint()
        if count > max_entries:
            raise ProtocolError("too many presence states in one frame", code)
        for _ in range(count):
            client_id = decoder.read_var_uint()
            clock = decoder.read_var_uint()
            raw = decoder.read_message()
            if raw is None:
                raise ProtocolError("truncated awareness entry")
            if client_id >= 2**53 or clock >= 2**53:
                raise ProtocolError("awareness id or clock out of range")
            removal = raw == b"null" or not raw
            if meta is not None:
                known = meta.get(client_id)
                if removal:
                    # only a removal that removes something is read (pycrdt would otherwise
                    # bump the clock of a state that is gone and broadcast that to everyone)
                    if (client_id not in present
                            or (known is not None and clock < known["clock"])):
                        continue
                elif known is not None and clock <= known["clock"]:
                    continue
            if removal:
                entries.append((client_id, clock, None))
                continue
            if len(raw) > max_state_bytes:
                raise ProtocolError(f"a presence state is larger than {max_state_bytes} bytes",
                                    CloseCode.PRESENCE_TOO_LARGE)
            states += 1
            if states > max_states:
                raise ProtocolError("too many presence states in one frame", code)
            state = _STATE_JSON.decode(bytes(raw).decode("utf-8"))
            if not isinstance(state, dict):
                raise ProtocolError("awareness state is not an object")
            entries.append((client_id, clock, state))
    except ProtocolError:
        raise
    except (IndexError, RuntimeError, UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(f"malformed awareness update: {exc.__class__.__name__}") from exc
    if decoder.length != 0:
        raise ProtocolError("trailing bytes in awareness update")
    return entries, len(entries) == count, count, states


def encode_awareness_update(entries: list[Entry]) -> bytes:
    """An awareness update from `(client_id, clock, state)` entries.

    Written here rather than with `Awareness.encode_awareness_update`, whose string length
    prefix counts characters: lib0 counts UTF-8 bytes, so a name like "Zoë" would corrupt the
    frame for every JavaScript client."""
    return join_awareness_entries([encode_awareness_entry(*entry) for entry in entries])


def encode_awareness_entry(client_id: int, clock: int, state: dict[str, Any] | None) -> bytes:
    """One entry of an awareness update (see `encode_awareness_update`)."""
    text = json.dumps(state, separators=(",", ":"), ensure_ascii=False)
    try:
        data = text.encode()
    except UnicodeEncodeError:
        # a lone surrogate, as a browser writes a name cut in the middle of an emoji: escaped
        # as the browser did (UTF-8 cannot carry it), not failing the room's presence
        data = json.dumps(state, separators=(",", ":")).encode()
    return write_var_uint(client_id) + write_var_uint(clock) + write_message(data)


def join_awareness_entries(encoded: list[bytes]) -> bytes:
    """An awareness update from entries encoded by `encode_awareness_entry`."""
    return write_var_uint(len(encoded)) + b"".join(encoded)


def awareness_entries(awareness: Awareness, client_ids: list[int]) -> list[Entry]:
    """What `awareness` holds for these clients, as encodable entries."""
    return [(cid, int(awareness.meta.get(cid, {}).get("clock", 0)), awareness.states.get(cid))
            for cid in client_ids]


def with_user_name(payload: bytes, entries: list[Entry], name: str | None,
                   username: str | None = None) -> bytes:
    """The awareness update with every state's `user.username` set to `username` (None for
    anyone without an account: nobody claims someone else's username) and, when `name` is
    given, `user.name` to `name` (a signed-in account shows under its own name only).
    Returns `payload` itself when nothing needs changing."""
    fixed: list[Entry] = []
    changed = False
    for client_id, clock, state in entries:
        user = state.get("user") if state is not None else None
        if isinstance(user, dict):
            verified = {**user, "username": username}
            if name is not None:
                verified["name"] = name
            if verified != user:
                changed = True
                state = {**state, "user": verified}  # type: ignore[dict-item]
        fixed.append((client_id, clock, state))
    return encode_awareness_update(fixed) if changed else payload


def sync_step1(state_vector: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP1]) + write_message(state_vector)


def sync_step2(update: bytes) -> bytes:
    return bytes([YMessageType.SYNC, YSyncMessageType.SYNC_STEP2]) + write_message(update)


def update_message(update: bytes) -> bytes:
    return create_update_message(update)


def awareness_message(payload: bytes) -> bytes:
    return create_awareness_message(payload)


def permission_denied(reason: str) -> bytes:
    """`[2, 0, varString(reason)]`: y-websocket's auth message (the client logs the reason)."""
    encoded = reason.encode("utf-8")
    return bytes([2, 0]) + write_message(encoded)


def persisted_message(state_vector: bytes) -> bytes:
    return bytes([MSG_PERSISTED]) + write_message(state_vector)
