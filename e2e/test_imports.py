"""A real README imported as a person does it (issue 18, item 10): the dashboard's Import
Markdown with a file carrying raw HTML; the editor shows its pictures, sub/superscripts,
abbreviations with their tooltip, a details block as a quote and no HTML comments, and the
export keeps a loose list loose."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import import_from_dashboard

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
    expect(editor.locator("blockquote strong").first).to_have_text("More")
    expect(editor.locator("blockquote")).to_contain_text("Hidden details here.")
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
