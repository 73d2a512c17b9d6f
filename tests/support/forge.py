"""Hand-built Yjs updates for attack tests: the byte layouts pycrdt would never produce itself.

See crdt/update_format.py for the format. Every builder returns a complete v1 update.
"""

from __future__ import annotations

from pycrdt import write_var_uint

ANY_ARRAY, ANY_OBJECT, ANY_NULL = 0x75, 0x76, 0x7E


def var_string(text: str) -> bytes:
    data = text.encode()
    return write_var_uint(len(data)) + data


def var_id(item: tuple[int, int]) -> bytes:
    return write_var_uint(item[0]) + write_var_uint(item[1])


def update(client: int, clock: int, structs: list[bytes], deletes: bytes = b"\x00") -> bytes:
    """One client block of `structs` starting at `clock`, then a delete set."""
    return (b"\x01" + write_var_uint(len(structs)) + write_var_uint(client)
            + write_var_uint(clock) + b"".join(structs) + deletes)


def nested_any(depth: int, kind: str = "array") -> bytes:
    """A lib0 Any value: arrays in arrays (or objects in objects) `depth` levels deep."""
    if kind == "array":
        return b"\x75\x01" * depth + b"\x7e"
    return (b"\x76\x01" + var_string("k")) * depth + b"\x7e"


def deep_value_update(depth: int, *, kind: str = "array", client: int = 424242,
                      root: str = "comments", key: str = "x") -> bytes:
    """The issue's recipe: a map entry `root[key]` whose Any value nests `depth` levels."""
    struct = b"\x28\x01" + var_string(root) + var_string(key) + b"\x01" + nested_any(depth, kind)
    return update(client, 0, [struct])


def deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


def deep_format_update(depth: int, client: int = 424243) -> bytes:
    """A formatting attribute whose JSON value nests `depth` levels, in root text "t"."""
    struct = b"\x06\x01" + var_string("t") + var_string("bold") + var_string(deep_json(depth))
    return update(client, 0, [struct])


def deep_embed_update(depth: int, client: int = 424244) -> bytes:
    struct = b"\x05\x01" + var_string("t") + var_string(deep_json(depth))
    return update(client, 0, [struct])


def deep_json_content_update(depth: int, client: int = 424245) -> bytes:
    """Legacy ContentJSON: a list of JSON strings."""
    struct = b"\x02\x01" + var_string("a") + b"\x01" + var_string(deep_json(depth))
    return update(client, 0, [struct])


def deep_subdoc_update(depth: int, client: int = 424246) -> bytes:
    """A sub-document whose options (an Any) nest `depth` levels."""
    struct = b"\x09\x01" + var_string("a") + var_string("guid") + nested_any(depth)
    return update(client, 0, [struct])


def element_chain(depth: int, *, client: int = 525252, clock: int = 0,
                  parent: tuple[int, int] | None = None, root: str = "default") -> bytes:
    """`depth` XmlElements, each the only child of the one before: under `parent` (an
    element's item ID) or the root fragment `root`."""
    structs = []
    for i in range(depth):
        if i == 0 and parent is None:
            where = b"\x01" + var_string(root)
        else:
            at = parent if i == 0 else (client, clock + i - 1)
            where = b"\x00" + write_var_uint(at[0]) + write_var_uint(at[1])
        structs.append(b"\x07" + where + b"\x03" + var_string("blockquote"))
    return update(client, clock, structs)


def delete_set(client: int, clock: int, length: int) -> bytes:
    return b"\x01" + write_var_uint(client) + b"\x01" + write_var_uint(clock) + write_var_uint(
        length)
