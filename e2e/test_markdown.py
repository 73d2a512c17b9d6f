"""Import a Markdown file from the dashboard; export the document as Markdown from the editor."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

NOTES = """# Harbour notes

The *tide* turns at **noon**.

- one
- two
"""


def test_import_then_export_markdown(quire, people, tmp_path: Path):
    source = tmp_path / "harbour-notes.md"
    source.write_text(NOTES)
    ada = people("Ada")
    page = ada.page
    page.goto(quire.url + "/")
    page.locator("#import-file").set_input_files(source)
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    text = page.locator(".ProseMirror")
    expect(text.locator("h1")).to_have_text("Harbour notes")
    expect(text.locator("em")).to_have_text("tide")
    expect(text.locator("strong")).to_have_text("noon")
    expect(text.locator("ul > li")).to_have_count(2)
    ada.expect_state("saved")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export", exact=True).click()
        page.get_by_role("menuitem", name="Markdown (.md)").click()
    exported = Path(download.value.path()).read_text()
    assert "# Harbour notes" in exported
    assert "**noon**" in exported
    assert download.value.suggested_filename.endswith(".md")
