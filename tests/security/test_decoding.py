"""One frame must never kill the server: bounded decoding, against a real `quire serve`.

pycrdt's decoder recurses once per nesting level of a JSON-like value, and Yrs recurses over
nested shared types when it deletes or prints them: past some tens of thousands of levels the
process dies of a native stack overflow (SIGSEGV), taking every document with it. The gate
(crdt/gate.py) reads every update linearly first.

| attack (an editor unless said)                                   | what happens            |
|------------------------------------------------------------------|-------------------------|
| the issue's recipe: Any arrays nested 100,000 deep (~200 KB)     | closed 4400, not stored |
| the same from a commenter (their check used to decode first)     | closed 4400             |
| objects in objects 100,000 deep; 3,000 deep (the "poison pill")  | closed 4400, not stored |
| nested JSON in a format value, an embed, legacy JSON, sub-doc    | closed 4400             |
| 100,000 nested shared types in one update                        | closed 4400             |
| shared types nested 64 levels per update, update after update    | refused past 100 levels |
| absurd lengths, truncated structs, unknown content kinds         | closed 1007             |
| a stored update nested 100,000 deep (written before this check)  | the document opens      |
|                                                                  | without it; quarantined |

Each: the process stays up, /healthz answers within 1 s throughout, and the document as the
owner reads it is unchanged.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from pycrdt import XmlFragment
from sqlalchemy import create_engine

from storage.updates import append_updates, quarantined
from tests.support import forge

pytestmark = pytest.mark.timeout(90)


def frame(update: bytes) -> bytes:
    from pycrdt import write_message

    return bytes([0, 2]) + write_message(update)


@pytest.mark.parametrize("role", ["editor", "commenter"])
async def test_the_issues_recipe_closes_only_its_sender(quire, role):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    bystander = await quire.joined(doc, "editor")
    async with quire.probe():
        code, reason = await quire.attack_frame(doc, frame(forge.deep_value_update(100_000)),
                                                role)
    assert code == 4400, (code, reason)
    assert "nests deeper" in reason
    assert not bystander.closed.is_set()
    await bystander.close()
    assert await quire.owner_view(doc) == before


@pytest.mark.parametrize(("name", "update"), [
    ("objects 100,000 deep", forge.deep_value_update(100_000, kind="object")),
    ("arrays 3,000 deep", forge.deep_value_update(3_000)),
    ("a format value", forge.deep_format_update(100_000)),
    ("an embed", forge.deep_embed_update(100_000)),
    ("legacy JSON content", forge.deep_json_content_update(100_000)),
    ("sub-document options", forge.deep_subdoc_update(100_000)),
    ("100,000 nested elements", forge.element_chain(100_000)),
])
async def test_deep_nesting_of_every_kind_is_refused(quire, name, update):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    async with quire.probe():
        code, reason = await quire.attack_frame(doc, frame(update), "editor")
    assert code == 4400, (name, code, reason)
    assert await quire.owner_view(doc) == before


async def test_nesting_built_up_over_many_updates_stops_at_the_limit(quire):
    """Each update adds 64 levels under the last element of the one before."""
    doc = await quire.new_doc()
    client, clock, parent, frames = 626262, 0, None, []
    for _ in range(3):  # 192 levels in all: past the limit of 100
        frames.append(frame(forge.element_chain(64, client=client, clock=clock,
                                                parent=parent)))
        parent = (client, clock + 63)
        clock += 64
    async with quire.probe():
        code, reason = await quire.attack_frame(doc, frames, "editor")
    assert code == 4400, (code, reason)
    assert "shared types nest deeper than 100" in reason
    # what was stored before the refusal opens and reads fine
    view = await quire.owner_view(doc)
    assert "first paragraph" in view["content"]["text"]


@pytest.mark.parametrize(("name", "update"), [
    ("a string longer than the update", forge.update(1, 0, [b"\x04\x01" + forge.var_string(
        "t") + b"\xff\xff\xff\x0f" + b"x"])),
    ("more structs than bytes", b"\x01\xff\xff\xff\x0f\x01\x00"),
    ("a truncated struct", forge.deep_value_update(5)[:-4]),
    ("an unknown content kind", forge.update(1, 0, [b"\x11\x01" + forge.var_string("t")])),
    ("an unknown value tag", forge.update(1, 0, [b"\x28\x01" + forge.var_string("m")
                                                 + forge.var_string("k") + b"\x01\x50"])),
    ("trailing bytes", forge.deep_value_update(2) + b"\x00\x00"),
])
async def test_malformed_updates_close_1007(quire, name, update):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    async with quire.probe():
        code, reason = await quire.attack_frame(doc, frame(update), "editor")
    assert code == 1007, (name, code, reason)
    assert await quire.owner_view(doc) == before


async def test_a_poisoned_stored_log_still_opens(quire):
    """Updates stored before the gate existed: one nests 100,000 levels (it would crash any
    process that loads, compacts or exports the document), one is not an update at all.
    The document opens with everything else; both are quarantined and counted."""
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    await asyncio.sleep(1)  # the document unloads (written by an older server, then restarted)
    engine = create_engine(quire.process.database_url)
    try:
        await asyncio.to_thread(append_updates, engine, [
            (doc, forge.deep_value_update(100_000)), (doc, b"\x01\x05garbage")])
        async with quire.probe():
            client = await quire.joined(doc, "editor")
            assert "first paragraph" in str(client.doc.get("default", type=XmlFragment))
            await client.close()
            assert await quire.owner_view(doc) == before
        kept = await asyncio.to_thread(quarantined, engine, doc_id=doc)
        assert len(kept) == 2
        assert any("nested deeper" in row.reason for row in kept)
    finally:
        engine.dispose()
    async with httpx.AsyncClient(base_url=quire.http) as http:
        metrics = (await http.get("/metrics", headers=quire.metrics_headers)).text
    line = next(x for x in metrics.splitlines() if x.startswith("quire_updates_quarantined"))
    assert float(line.split()[-1]) >= 2
    # and it goes on working: compaction on unload keeps the content, the poison stays out
    await asyncio.sleep(1)
    client = await quire.joined(doc, "editor")
    client.doc.get("default", type=XmlFragment).children[0].children[0].insert(0, "Still ")
    await asyncio.sleep(0.3)
    await client.close()
    view = await quire.owner_view(doc)
    assert view["content"]["text"].startswith("Still Plan")


async def test_deeply_nested_stored_elements_are_collected_on_load(quire):
    doc = await quire.new_doc()
    await asyncio.sleep(1)  # unloaded
    engine = create_engine(quire.process.database_url)
    try:
        await asyncio.to_thread(append_updates, engine, [(doc, forge.element_chain(5_000))])
        async with quire.probe():
            view = await quire.owner_view(doc)
        assert "first paragraph" in view["content"]["text"]
        kept = await asyncio.to_thread(quarantined, engine, doc_id=doc)
        assert any("shared type" in row.reason for row in kept)
    finally:
        engine.dispose()


async def test_sub_documents_are_refused(quire):
    """Quire uses none; Yrs would create and keep one per item (a shallow one here)."""
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    client = await quire.joined(doc, "editor")
    await client.send_raw(frame(forge.deep_subdoc_update(2)))
    for _ in range(100):
        if any(m[:1] == b"\x02" for m in client.received):
            break
        await asyncio.sleep(0.05)
    assert any(m[:1] == b"\x02" and b"sub-documents" in m for m in client.received)
    await client.close()
    assert await quire.owner_view(doc) == before
