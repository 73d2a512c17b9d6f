"""A real README imported as a person does it (issue 18, item 10): the dashboard's Import
Markdown with a file carrying raw HTML; the editor shows its pictures, sub/superscripts,
abbreviations with their tooltip, a details block as a collapsible (closed until its toggle
opens it, for this reader only) and no HTML comments, and the export keeps a loose list loose
and the collapsible a <details>."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import eventually, import_from_dashboard

README = """<!-- markdownlint-disable MD033 -->
<p align="center">
  <a href="https://example.org/"><img src="/static/icons.svg" alt="Logo" width="64"></a>
</p>

# Water <sub>and</sub> energy

H<sub>2</sub>O and E = mc<sup>2</sup>. Press <kbd>Ctrl</kbd>.

A <abbr title="Command Line Interface">CLI</abbr> with <dfn title='also "DI"'>injection</dfn>.

<details>
<summary>More</summary>

Hidden **details** here.

</details>

- first point

- second point

#### A small heading
"""


def test_a_readme_with_raw_html_imports_as_nodes(quire, people, tmp_path):
    ada = people("Ada")
    readme = tmp_path / "README.md"
    readme.write_text(README)
    doc_id = import_from_dashboard(ada, readme)
    editor = ada.editor
    expect(editor.locator(".figure img")).to_have_attribute("alt", "Logo")
    expect(editor.locator("h1 sub")).to_have_text("and")
    expect(editor.locator("p sub")).to_have_text("2")
    expect(editor.locator("p sup")).to_have_text("2")
    expect(editor.locator("p code")).to_have_text("Ctrl")
    expect(editor.locator("p abbr")).to_have_text("CLI")
    expect(editor.locator("p abbr")).to_have_attribute("title", "Command Line Interface")
    expect(editor.locator("p dfn")).to_have_attribute("title", 'also "DI"')
    details = editor.locator('[data-type="details"]')
    expect(details.locator("summary")).to_have_text("More")
    body = details.locator('[data-type="detailsContent"]')
    expect(body).to_be_hidden()
    toggle = details.get_by_role("button", name="Show the details")
    toggle.click()
    expect(body).to_be_visible()
    expect(body).to_contain_text("Hidden details here.")
    expect(body.locator("strong")).to_have_text("details")
    expect(details.get_by_role("button", name="Hide the details")).to_have_attribute(
        "aria-expanded", "true")
    expect(editor.locator("h4")).to_have_text("A small heading")
    expect(editor).not_to_contain_text("markdownlint")
    expect(editor).not_to_contain_text("<")
    # the style picker names the small heading's level
    editor.locator("h4").click()
    expect(ada.page.get_by_label("Paragraph style")).to_have_value("h4")

    exported = ada.api("GET", f"/api/docs/{doc_id}/export.md").text()
    assert "- first point\n\n- second point\n" in exported
    assert "H<sub>2</sub>O and E = mc<sup>2</sup>" in exported
    assert ("A <abbr title=\"Command Line Interface\">CLI</abbr> with "
            "<dfn title='also \"DI\"'>injection</dfn>.") in exported
    assert "[![Logo](/static/icons.svg)](https://example.org/)" in exported
    assert "markdownlint" not in exported
    assert "<details>\n<summary>More</summary>\n\nHidden **details** here.\n\n</details>\n" \
        in exported

    # what a person types in the opened collapsible is the document's (y-tiptap writes it back)
    body.locator("p").click()
    ada.page.keyboard.press("End")
    ada.page.keyboard.type(" Typed.")
    eventually(lambda: "Hidden **details** here. Typed.\n\n</details>\n" in ada.api(
        "GET", f"/api/docs/{doc_id}/export.md").text(), message="the typed text exported")
