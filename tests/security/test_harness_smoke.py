"""The harness itself: a hardened server, its cast, and a harmless session under the probe."""

from __future__ import annotations

from pycrdt import XmlFragment

pytestmark = []


async def test_cast_reads_the_document_and_the_probe_runs(quire):
    doc = await quire.new_doc()
    before = await quire.owner_view(doc)
    assert "first paragraph" in before["content"]["text"]
    async with quire.probe() as probe:
        client = await quire.joined(doc, "editor")
        assert "first paragraph" in str(client.doc.get("default", type=XmlFragment))
        await client.close()
    assert probe.latencies
    assert await quire.owner_view(doc) == before
