"""Read a Yjs update (v1 encoding) without pycrdt: one linear pass, no recursion.

pycrdt's decoder recurses once per nesting level of a JSON-like value, and Yrs recurses over
nested shared types when it deletes or prints them: an update nesting tens of thousands of
levels kills the process with a native stack overflow that no `except` can catch. So every
update from a client, another process or storage is read here first, and refused before pycrdt
sees it if its shape is impossible or too deep. The reader also yields what the role checks
need (`crdt.structs` places each item in the document, `crdt.judge` decides).

Layout (y-protocols / lib0, as `Y.encodeStateAsUpdate` writes it)::

    update    = varUint(#clients) { varUint(#structs) varUint(client) varUint(clock) struct* }
                delete-set
    struct    = info:uint8 ...      low 5 bits: 0 GC, 10 Skip, else an item's content kind
    GC, Skip  = varUint(length)
    item      = [origin ID if info&0x80] [right origin ID if info&0x40]
                [if neither: varUint(1) varString(root name) | varUint(0) ID(parent type)
                 then varString(key) if info&0x20]  content
    ID        = varUint(client) varUint(clock)
    content   = 1 Deleted varUint(len) | 2 JSON varUint(n) varString* | 3 Binary varBytes
              | 4 String varString | 5 Embed varString(JSON) | 6 Format varString(key)
                varString(JSON) | 7 Type varUint(ref) [varString(tag) for XmlElement/XmlHook]
              | 8 Any varUint(n) any* | 9 Doc varString(guid) any
    any       = lib0 `writeAny`: a tag byte 116..127, arrays (117) and objects (118) nest
    delete-set= varUint(#clients) { varUint(client) varUint(#ranges) (varUint(clock) varUint(len))* }

An item's length (clock units) is 1, except String (its UTF-16 length), Deleted (len), JSON and
Any (their element count).
"""

from __future__ import annotations

import struct as _struct
from dataclasses import dataclass, field
from typing import Any

#: JSON-like values (Any, and the JSON strings of embeds, formats and legacy JSON content)
#: nesting deeper than this are refused. Tiptap's and Quire's own values nest 2-3 levels.
MAX_VALUE_DEPTH = 64
#: Shared types nested deeper than this are refused (checked where items are placed, see
#: `crdt.structs`). Yrs crashed at ~50,000; the REST API's editor JSON (two JSON levels per
#: node) must stay under pydantic's 255; Markdown imports nest at most ~52.
MAX_TYPE_DEPTH = 100
#: Clocks and lengths above this cannot come from a real document (Yrs keeps clocks in u32).
MAX_CLOCK = 2**32 - 1
MAX_CLIENT = 2**53 - 1  # client ids are JavaScript numbers

GC, DELETED, JSON, BINARY, STRING, EMBED, FORMAT, TYPE, ANY, DOC, SKIP = range(11)
# shared type references (ContentType)
Y_ARRAY, Y_MAP, Y_TEXT, Y_XML_ELEMENT, Y_XML_FRAGMENT, Y_XML_HOOK, Y_XML_TEXT = range(7)

ID = tuple[int, int]  # (client, clock)
_FLOAT32 = _struct.Struct(">f")
_FLOAT64 = _struct.Struct(">d")


class UpdateError(ValueError):
    """An update we refuse to hand to pycrdt; `reason` says why (sent in the close frame).
    `malformed`: its bytes are not an update at all (truncated, unknown tags); otherwise it is
    well-formed but impossible or too deep."""

    def __init__(self, reason: str, *, malformed: bool = True) -> None:
        super().__init__(reason)
        self.reason = reason
        self.malformed = malformed


def _refuse(reason: str) -> UpdateError:
    return UpdateError(reason, malformed=False)


@dataclass(slots=True)
class Struct:
    """One struct of an update. `kind` is the content kind (GC, SKIP or an item's content)."""

    kind: int
    client: int
    clock: int
    length: int
    origin: ID | None = None
    right: ID | None = None
    parent: str | ID | None = None  # a root's name, a parent type's ID, or None: as its origins'
    key: str | None = None  # parentSub: the key in a map-like parent
    type_ref: int = -1  # TYPE: which shared type
    format_key: str | None = None  # FORMAT: the attribute's name
    value: str | None = None  # FORMAT: the attribute's value as JSON text
    span: tuple[int, int] = (0, 0)  # ANY: where its values are in the update (see `read_anys`)
    at: int = 0  # where the struct begins in the update (its info byte)
    stop: int = 0  # where it ends
    too_deep: bool = False  # its value nests too deep (read leniently, see `parse_update`)


@dataclass(slots=True)
class Update:
    """A parsed update: its structs per client block, in order, and its delete set."""

    data: bytes
    structs: list[Struct] = field(default_factory=list)
    deletes: list[tuple[int, int, int]] = field(default_factory=list)  # (client, clock, length)
    delete_set_at: int = 0  # where the delete set begins in `data`
    too_deep: list[Struct] = field(default_factory=list)  # lenient reading only

    @property
    def empty(self) -> bool:
        return not self.structs and not self.deletes


def parse_update(data: bytes, *, max_value_depth: int = MAX_VALUE_DEPTH,
                 lenient: bool = False) -> Update:
    """Read `data` as a v1 update. Raises UpdateError for anything malformed, truncated,
    trailing, out of range or nested deeper than `max_value_depth`; with `lenient`, structs
    whose values nest too deep are listed in `too_deep` instead (for repairing stored data)."""
    reader = _Reader(data, max_value_depth, lenient)
    try:
        return reader.update()
    except IndexError:
        raise UpdateError("truncated update") from None
    except UnicodeDecodeError:
        raise UpdateError("a string in the update is not UTF-8") from None


def read_anys(data: bytes, span: tuple[int, int],
              max_value_depth: int = MAX_VALUE_DEPTH) -> list[object]:
    """The values of an ANY struct, decoded (JSON-like Python values; Uint8Array as bytes)."""
    reader = _Reader(data, max_value_depth, False)
    reader.pos = span[0]
    count = reader.uint()
    values = [reader.any(build=True) for _ in range(count)]
    if reader.pos != span[1]:
        raise UpdateError("malformed Any content")
    return values


def json_depth_ok(text: str, limit: int = MAX_VALUE_DEPTH) -> bool:
    """Whether the JSON text `text` nests at most `limit` arrays/objects (a linear scan;
    strings are skipped, so brackets inside them do not count)."""
    if text.count("[") + text.count("{") <= limit:
        return True
    depth = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return False
        elif char in "]}":
            depth -= 1
    return True


class _Reader:
    __slots__ = ("data", "pos", "end", "max_depth", "lenient", "deep")

    def __init__(self, data: bytes, max_depth: int, lenient: bool) -> None:
        self.data = data
        self.pos = 0
        self.end = len(data)
        self.max_depth = max_depth
        self.lenient = lenient
        self.deep = False  # the struct being read nests too deep (lenient reading)

    def too_deep(self) -> None:
        if not self.lenient:
            raise _refuse(f"a value nests deeper than {self.max_depth} levels")
        self.deep = True

    # ---- primitives --------------------------------------------------------------------------

    def uint(self) -> int:
        data, pos = self.data, self.pos
        byte = data[pos]
        pos += 1
        if byte < 0x80:
            self.pos = pos
            return byte
        value = byte & 0x7F
        shift = 7
        while True:
            byte = data[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                break
            shift += 7
            if shift > 63:
                raise UpdateError("a number in the update is too long")
        self.pos = pos
        return value

    def raw(self, length: int) -> bytes:
        start = self.pos
        end = start + length
        if end > self.end:
            raise IndexError
        self.pos = end
        return self.data[start:end]

    def string(self) -> str:
        return self.raw(self.uint()).decode("utf-8")

    def json(self) -> str:
        text = self.string()
        if not json_depth_ok(text, self.max_depth):
            self.too_deep()
        return text

    def id(self) -> ID:
        client = self.uint()
        clock = self.uint()
        if client > MAX_CLIENT or clock > MAX_CLOCK:
            raise _refuse("an id in the update is out of range")
        return client, clock

    # ---- lib0 any ------------------------------------------------------------------------

    def any(self, build: bool = False) -> object:
        """One `writeAny` value, read with an explicit stack (never recursing). Returns the
        value when `build`, else None."""
        # open containers: [container (list, dict or None), entries left, is object, key]
        stack: list[list[Any]] = []
        limit = self.max_depth
        data = self.data
        while True:
            tag = data[self.pos]
            self.pos += 1
            value: object = None
            if tag == 118 or tag == 117:  # object, array
                count = self.uint()
                if count > self.end - self.pos + 1:
                    raise UpdateError("a value claims more entries than the update holds")
                if len(stack) >= limit and not self.deep:
                    self.too_deep()
                is_object = tag == 118
                container: object = ({} if is_object else []) if build else None
                if count:
                    stack.append([container, count, is_object,
                                  self.string() if is_object else None])
                    continue
                value = container
            elif tag == 119:
                text = self.string()
                value = text if build else None
            elif tag == 125:
                value = self._signed_value()
            elif tag == 124:
                raw = self.raw(4)
                value = _FLOAT32.unpack(raw)[0] if build else None
            elif tag == 123:
                raw = self.raw(8)
                value = _FLOAT64.unpack(raw)[0] if build else None
            elif tag == 122:
                raw = self.raw(8)
                value = int.from_bytes(raw, "big", signed=True) if build else None
            elif tag == 121 or tag == 120:
                value = tag == 120
            elif tag == 127 or tag == 126:
                value = None
            elif tag == 116:
                raw = self.raw(self.uint())
                value = raw if build else None
            else:
                raise UpdateError(f"unknown value tag {tag}")
            # hand the finished value to its container, closing every container it completes
            while True:
                if not stack:
                    return value
                top = stack[-1]
                if build:
                    if top[2]:
                        top[0][top[3]] = value
                    else:
                        top[0].append(value)
                top[1] -= 1
                if top[1]:
                    if top[2]:
                        top[3] = self.string()
                    break
                value = top[0]
                stack.pop()

    def _signed_value(self) -> int:
        data = self.data
        byte = data[self.pos]
        self.pos += 1
        value = byte & 0x3F
        negative = byte & 0x40
        shift = 6
        while byte & 0x80:
            byte = data[self.pos]
            self.pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if shift > 70:
                raise UpdateError("a number in the update is too long")
        return -value if negative else value

    # ---- the update ------------------------------------------------------------------------

    def update(self) -> Update:
        update = Update(self.data)
        structs = update.structs
        seen: set[int] = set()
        for _ in range(self.uint()):
            count = self.uint()
            client = self.uint()
            clock = self.uint()
            if client > MAX_CLIENT or clock > MAX_CLOCK:
                raise _refuse("an id in the update is out of range")
            if client in seen:
                raise _refuse("a client appears twice in the update")
            seen.add(client)
            if count > self.end - self.pos:
                raise UpdateError("the update claims more structs than it holds")
            for _ in range(count):
                at = self.pos
                struct = self.struct(client, clock)
                struct.at, struct.stop = at, self.pos
                clock += struct.length
                if clock > MAX_CLOCK:
                    raise _refuse("a clock in the update is out of range")
                structs.append(struct)
                if self.deep:
                    struct.too_deep = True
                    update.too_deep.append(struct)
                    self.deep = False
        update.delete_set_at = self.pos
        deletes = update.deletes
        for _ in range(self.uint()):
            client = self.uint()
            ranges = self.uint()
            if ranges > self.end - self.pos:
                raise UpdateError("the delete set claims more ranges than it holds")
            for _ in range(ranges):
                clock = self.uint()
                length = self.uint()
                if client > MAX_CLIENT or clock + length > MAX_CLOCK:
                    raise _refuse("a deleted range is out of range")
                if length:
                    deletes.append((client, clock, length))
        if self.pos != self.end:
            raise UpdateError("trailing bytes after the update")
        return update

    def struct(self, client: int, clock: int) -> Struct:
        info = self.data[self.pos]
        self.pos += 1
        kind = info & 0x1F
        if kind == GC or kind == SKIP:
            length = self.uint()
            if not length:
                raise _refuse("an empty struct")
            return Struct(kind, client, clock, length)
        origin = self.id() if info & 0x80 else None
        right = self.id() if info & 0x40 else None
        parent: str | ID | None = None
        key = None
        if not info & 0xC0:
            parent = self.string() if self.uint() == 1 else self.id()
            if info & 0x20:
                key = self.string()
        struct = Struct(kind, client, clock, 1, origin, right, parent, key)
        if kind == STRING:
            raw = self.raw(self.uint())
            struct.length = len(raw) if raw.isascii() else len(raw.decode("utf-8").encode(
                "utf-16-le")) // 2
        elif kind == FORMAT:
            struct.format_key = self.string()
            struct.value = self.json()
        elif kind == TYPE:
            ref = self.uint()
            if ref > Y_XML_TEXT:
                raise UpdateError(f"unknown shared type {ref}")
            struct.type_ref = ref
            if ref == Y_XML_ELEMENT or ref == Y_XML_HOOK:
                self.string()
        elif kind == ANY:
            start = self.pos
            count = self.uint()
            for _ in range(count):
                self.any()
            struct.length = count
            struct.span = (start, self.pos)
        elif kind == DELETED:
            struct.length = self.uint()
        elif kind == EMBED:
            self.json()
        elif kind == BINARY:
            self.raw(self.uint())
        elif kind == JSON:
            count = self.uint()
            for _ in range(count):
                self.json()
            struct.length = count
        elif kind == DOC:
            self.string()
            self.any()
        else:
            raise UpdateError(f"unknown content kind {kind}")
        if struct.length < 1 or struct.length > MAX_CLOCK:
            raise _refuse("an item of impossible length")
        if origin is not None and origin[0] == client and origin[1] >= clock:
            raise _refuse("an item refers to its own future")
        if right is not None and right[0] == client and right[1] >= clock:
            raise _refuse("an item refers to its own future")
        return struct


def encode_delete_set(deletes: list[tuple[int, int, int]]) -> bytes:
    """A v1 delete set holding `deletes` ((client, clock, length), any order)."""
    from pycrdt import write_var_uint

    by_client: dict[int, list[tuple[int, int]]] = {}
    for client, clock, length in deletes:
        by_client.setdefault(client, []).append((clock, length))
    parts = [write_var_uint(len(by_client))]
    for client in sorted(by_client, reverse=True):
        ranges = sorted(by_client[client])
        parts += [write_var_uint(client), write_var_uint(len(ranges))]
        parts += [write_var_uint(clock) + write_var_uint(length) for clock, length in ranges]
    return b"".join(parts)


def with_deletes(update: Update, deletes: list[tuple[int, int, int]]) -> bytes:
    """`update`'s bytes with its delete set replaced by `deletes`."""
    return update.data[:update.delete_set_at] + encode_delete_set(deletes)


def collect_structs(update: Update, structs: list[Struct]) -> bytes:
    """`update`'s bytes with each of `structs` replaced by a garbage-collected struct of the
    same length: the clocks stay, the content (and whatever hangs under it) is gone."""
    from pycrdt import write_var_uint

    parts: list[bytes] = []
    at = 0
    for struct in sorted(structs, key=lambda s: s.at):
        parts.append(update.data[at:struct.at])
        parts.append(bytes([GC]) + write_var_uint(struct.length))
        at = struct.stop
    parts.append(update.data[at:])
    return b"".join(parts)


def sanitize(data: bytes, *, max_value_depth: int = MAX_VALUE_DEPTH) -> tuple[bytes | None, str]:
    """Stored bytes made safe for pycrdt: (`data` itself and "" when it is sound; a repaired
    copy, with the items whose values nest too deep collected, and why; None and why when it
    cannot be read at all)."""
    safe, why, _ = sanitize_read(data, max_value_depth=max_value_depth)
    return safe, why


def sanitize_read(data: bytes, *, max_value_depth: int = MAX_VALUE_DEPTH,
                  ) -> tuple[bytes | None, str, Update | None]:
    """`sanitize`, and the update as read when `data` was sound (None otherwise): what
    `parse_update(data)` would give, so a caller about to read it again need not."""
    try:
        update = parse_update(data, max_value_depth=max_value_depth, lenient=True)
    except UpdateError as exc:
        return None, exc.reason, None
    if not update.too_deep:
        return data, "", update
    return (collect_structs(update, update.too_deep),
            f"{len(update.too_deep)} item(s) nested deeper than {max_value_depth} levels", None)
