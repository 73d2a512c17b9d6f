"""The linear update reader (crdt/update_format.py) and the item index (crdt/structs.py),
checked against what pycrdt itself writes and reads."""

from __future__ import annotations

import pytest
from pycrdt import Array, Doc, Map, Text, XmlElement, XmlFragment, XmlText

from crdt.gate import _subtract, stored_state
from crdt.structs import StructIndex
from crdt.update_format import (
    ANY,
    FORMAT,
    MAX_VALUE_DEPTH,
    STRING,
    TYPE,
    UpdateError,
    json_depth_ok,
    parse_update,
    read_anys,
    sanitize,
    with_deletes,
)
from tests.support import forge
from tests.support.yclient import decode_state_vector


def sample() -> Doc:
    doc = Doc(client_id=11)
    with doc.transaction():
        doc.get("m", type=Map)["v"] = {"list": [1, 2.5, None, True, "zoë"], "n": -7}
        doc.get("a", type=Array).extend([1, "two", b"\x00\x01"])
        fragment = doc.get("default", type=XmlFragment)
        fragment.children.append(XmlElement("heading", {"level": "2"}, [XmlText("Tïtle 😀")]))
        doc.get("t", type=Text).insert(0, "emoji 😀 and text")
    doc.get("t", type=Text).format(0, 5, {"bold": {}})
    del doc.get("t", type=Text)[0:1]
    return doc


def test_clocks_match_pycrdts_state_vector_including_utf16_lengths():
    doc = sample()
    parsed = parse_update(doc.get_update())
    ends: dict[int, int] = {}
    for struct in parsed.structs:
        assert struct.clock == ends.get(struct.client, 0)  # contiguous
        ends[struct.client] = struct.clock + struct.length
    assert ends == decode_state_vector(doc.get_state())
    assert parsed.deletes  # the deleted first character
    kinds = {s.kind for s in parsed.structs}
    assert {STRING, FORMAT, TYPE, ANY} <= kinds


def test_any_values_read_back_as_pycrdt_wrote_them():
    doc = sample()
    update = doc.get_update()
    values = [read_anys(update, s.span) for s in parse_update(update).structs if s.kind == ANY]
    assert [{"list": [1.0, 2.5, None, True, "zoë"], "n": -7.0}] in values
    assert [1.0, "two", b"\x00\x01"] in values


@pytest.mark.parametrize("depth", [MAX_VALUE_DEPTH, MAX_VALUE_DEPTH + 1])
@pytest.mark.parametrize("kind", ["array", "object"])
def test_value_depth_limit_is_exact(depth, kind):
    update = forge.deep_value_update(depth, kind=kind)
    if depth <= MAX_VALUE_DEPTH:
        parse_update(update)
        Doc().apply_update(update)  # and pycrdt agrees it is an update
    else:
        with pytest.raises(UpdateError) as refused:
            parse_update(update)
        assert not refused.value.malformed


def test_json_depth_ignores_brackets_inside_strings():
    assert json_depth_ok('{"a": "[[[[[[[[[["}', limit=2)
    assert json_depth_ok('["\\"[[[["]', limit=1)
    assert not json_depth_ok("[[[]]]", limit=2)


@pytest.mark.parametrize("data", [b"", b"\x00", b"\x01", b"\x01\x01\x01\x00\x04\x01",
                                  b"\x00\x00\x00", b"\x01\x01\x01\x00\x1f", b"\xff" * 12])
def test_malformed_bytes_are_refused_not_crashed_on(data):
    with pytest.raises(UpdateError):
        parse_update(data)


def test_sanitize_collects_only_what_nests_too_deep():
    good = Doc(client_id=5)
    good.get("comments", type=Map)["ok"] = {"x": 1}
    poisoned = forge.deep_value_update(10_000, client=6, key="bad")
    # a stored update holding a good item and a poisoned one from another client
    from pycrdt import merge_updates

    merged = merge_updates(good.get_update(), poisoned)
    clean, why = sanitize(merged)
    assert "nested deeper" in why
    doc = Doc()
    doc.apply_update(clean)
    assert doc.get("comments", type=Map).to_py() == {"ok": {"x": 1.0}}
    assert sanitize(good.get_update()) == (good.get_update(), "")
    assert sanitize(b"\x01garbage")[0] is None


def test_stored_state_collects_shared_types_nested_too_deep():
    state, left_out = stored_state([forge.element_chain(500)])
    assert left_out and "shared type" in left_out[0]
    doc = Doc()
    doc.apply_update(state)  # and deleting what is left is safe
    fragment = doc.get("default", type=XmlFragment)
    del fragment.children[0]


def test_delete_sets_are_rewritten_exactly():
    doc = Doc(client_id=3)
    text = doc.get("t", type=Text)
    text.insert(0, "abcdefghij")
    before = doc.get_state()
    del text[2:8]
    update = doc.get_update(before)
    parsed = parse_update(update)
    assert parsed.deletes == [(3, 2, 6)]
    kept = _subtract(parsed.deletes, [(3, 4, 2)])
    assert kept == [(3, 2, 2), (3, 6, 2)]
    replica = Doc()
    replica.apply_update(doc.get_update(b"\x00"))
    fresh = Doc()
    fresh.apply_update(Doc(client_id=3).get_update())
    fresh2 = Doc()
    source = Doc(client_id=3)
    source.get("t", type=Text).insert(0, "abcdefghij")
    fresh2.apply_update(source.get_update())
    fresh2.apply_update(with_deletes(parsed, kept))
    assert str(fresh2.get("t", type=Text)) == "abefij"


def test_the_index_places_map_replacements_and_nested_types():
    doc = Doc(client_id=9)
    index = StructIndex()
    doc.observe(lambda event: index.add(index.resolve(parse_update(event.update))))
    comments = doc.get("comments", type=Map)
    comments["t"] = Map({"messages": Array([Map({"body": "hi"})])})
    comments["t"]["messages"][0]["body"] = "edited"
    assert index.state_vector() == decode_state_vector(doc.get_state())
    editor = Doc(client_id=10)
    editor.apply_update(doc.get_update())
    before = editor.get_state()
    editor.get("comments", type=Map)["t"]["messages"][0]["body"] = "again"
    resolution = index.resolve(parse_update(editor.get_update(before)))
    [item] = resolution.items
    assert (item.place.root, item.place.key, item.place.depth) == ("comments", "body", 3)
    [(client, _, _, kind, place, _)] = resolution.deletes  # the value it replaces
    assert (client, kind, place) == (9, ANY, item.place)


def test_the_index_holds_what_it_cannot_place_yet():
    doc = Doc(client_id=4)
    index = StructIndex()
    text = doc.get("t", type=Text)
    text.insert(0, "a")
    first = doc.get_update()
    before = doc.get_state()
    text.insert(1, "b")
    second = doc.get_update(before)
    assert index.resolve(parse_update(second)).missing
    index.add(index.resolve(parse_update(first)))
    assert index.resolve(parse_update(second)).missing is None
