"""Markdown export and import over REST, and the CLI on the database directly."""

from __future__ import annotations

import subprocess
import sys

from pycrdt import XmlElement, XmlFragment, XmlText

from crdt.markdown import fragment_to_json, import_markdown
from tests.support.yclient import YClient, eventually

SAMPLE = """# White paper

Intro with **bold**, *italic* and a [link](https://example.com "Example").

- one
  - nested
- two

> quoted

```python
print("hi")
```

| a | b |
|:--|--:|
| 1 | 2 |
"""


async def test_export_live_document(server):
    doc_id = await server.new_doc("Q3 Report: Draft #2")
    client = YClient(server.ws(doc_id))
    await client.connect()
    await client.wait_synced()
    fragment = client.doc.get("default", type=XmlFragment)
    heading = fragment.children.append(XmlElement("heading", {"level": 2.0}))
    heading.children.append(XmlText("Summary"))
    para = fragment.children.append(XmlElement("paragraph"))
    text = para.children.append(XmlText(""))
    text.insert(0, "Revenue ")
    text.insert(8, "grew", {"bold": {}})
    await eventually(lambda: server.rooms.stats.updates_persisted >= 2)
    async with server.client() as http:
        r = await http.get(f"/api/docs/{doc_id}/export.md")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/markdown; charset=utf-8"
        assert r.headers["content-disposition"] == 'attachment; filename="q3-report-draft-2.md"'
        assert r.text == "## Summary\n\nRevenue **grew**\n"
        r = await http.get(f"/api/docs/{doc_id}/export.md", params={"frontmatter": "1"})
        assert r.text.startswith('---\ntitle: "Q3 Report: Draft #2"\n')
        assert (await http.get("/api/docs/nope/export.md")).status_code == 404
    await client.close()


async def test_export_with_comment_footnotes(server):
    async with server.client() as http:
        r = await http.post("/api/docs/import", content="The budget is final.\n",
                            headers={"content-type": "text/markdown"})
        doc_id = r.json()["id"]
        r = await http.post(f"/api/docs/{doc_id}/comments",
                            json={"quote": "budget", "body": "Which year?",
                                  "author": {"name": "Rae", "color": "#225588"}})
        assert r.status_code == 201, r.text
        plain = (await http.get(f"/api/docs/{doc_id}/export.md")).text
        noted = (await http.get(f"/api/docs/{doc_id}/export.md",
                                params={"comments": "footnotes"})).text
    assert plain == "The budget is final.\n"
    # a signed-in account comments under its own display name
    assert "budget[^1]" in noted and f"[^1]: {server.username.title()}: Which year?" in noted


async def test_import_file_and_raw_text(server):
    async with server.client() as http:
        r = await http.post("/api/docs/import",
                            files={"file": ("plan.md", SAMPLE.encode(), "text/markdown")})
        assert r.status_code == 201, r.text
        doc = r.json()
        assert doc["title"] == "White paper"  # the first heading
        exported = (await http.get(f"/api/docs/{doc['id']}/export.md")).text
        content = (await http.get(f"/api/docs/{doc['id']}/content")).json()
    # the stored structure is what the editor would have made from the same Markdown
    from pycrdt import Doc

    reference = Doc()
    import_markdown(SAMPLE, reference)
    assert content["json"] == fragment_to_json(reference)
    assert "| a | b |" in exported and "```python" in exported

    # an editor opening it sees the structure live
    client = YClient(server.ws(doc["id"]))
    await client.connect()
    await client.wait_synced()
    assert fragment_to_json(client.doc) == fragment_to_json(reference)
    await client.close()

    async with server.client() as http:
        r = await http.post("/api/docs/import", params={"title": "Raw"},
                            content="plain *text*", headers={"content-type": "text/plain"})
        assert r.status_code == 201 and r.json()["title"] == "Raw"


async def test_import_bad_input(server):
    async with server.client() as http:
        r = await http.post("/api/docs/import",
                            files={"file": ("x.md", b"caf\xe9 latin-1", "text/markdown")})
        assert r.status_code == 422 and "not UTF-8" in r.json()["detail"]
        big = b"a" * (server.settings.max_import_bytes + 1)
        r = await http.post("/api/docs/import", files={"file": ("big.md", big, "text/markdown")})
        assert r.status_code == 413 and "limited" in r.json()["detail"] or "limit" in r.json()[
            "detail"]
        r = await http.post("/api/docs/import",
                            content="<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>",
                            headers={"content-type": "text/markdown"})
        assert r.status_code == 201
        content = (await http.get(f"/api/docs/{r.json()['id']}/content")).json()
        # raw HTML is sanitised (nh3): the script is gone, the image keeps only its source
        assert "alert" not in str(content) and "script" not in str(content)
        assert content["json"]["content"] == [
            {"type": "paragraph", "content": [{"type": "image", "attrs": {"src": "x"}}]}]
        deep = "> " * 2000 + "deep\n" + "".join("  " * i + "- x\n" for i in range(300))
        r = await http.post("/api/docs/import", content=deep,
                            headers={"content-type": "text/markdown"})
        assert r.status_code == 201


def test_cli_import_and_export(tmp_path):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    source = tmp_path / "in.md"
    source.write_text(SAMPLE)
    quire = [sys.executable, "-m", "server.cli"]
    made = subprocess.run([*quire, "import", str(source), "--title", "From CLI",
                           "--database-url", db], capture_output=True, text=True, check=True)
    doc_id = made.stdout.strip()
    out = tmp_path / "out.md"
    subprocess.run([*quire, "export", doc_id, "-o", str(out), "--database-url", db],
                   check=True, capture_output=True)
    printed = subprocess.run([*quire, "export", doc_id, "--database-url", db],
                             capture_output=True, text=True, check=True).stdout
    assert out.read_text() == printed
    assert printed.startswith("# White paper\n")
    missing = subprocess.run([*quire, "export", "nope", "--database-url", db],
                             capture_output=True, text=True)
    assert missing.returncode == 1 and "not found" in missing.stderr
