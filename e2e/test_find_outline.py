"""Find and replace (Ctrl+F, Ctrl+H) and the outline, with another person in the document."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import eventually


def test_find_and_replace_all_is_one_undo(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Utilisation report", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    ada.editor.click()
    page = ada.page
    for line in ("The utilisation of edge nodes.", "Utilisation grows.", "utilisation is key"):
        page.keyboard.type(line, delay=10)
        page.keyboard.press("Enter")
    ada.expect_state("saved")
    bea.expect_contains("utilisation is key")

    # find: Ctrl+F, type, the count follows, Enter / Shift+Enter move
    page.keyboard.press("Control+f")
    find = page.get_by_role("textbox", name="Find in document")
    expect(find).to_be_focused()
    page.keyboard.type("utilisation", delay=20)
    count = page.locator(".find-count")
    expect(count).to_have_text("1 of 3")
    # every match highlighted, the current one apart
    expect(page.locator(".ProseMirror .ProseMirror-search-match")).to_have_count(2)
    expect(page.locator(".ProseMirror .ProseMirror-active-search-match")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(count).to_have_text("2 of 3")
    page.keyboard.press("Shift+Enter")
    expect(count).to_have_text("1 of 3")
    page.get_by_role("button", name="Match case").click()
    expect(count).to_have_text(re.compile(r"^(1 of 2|2 matches)$"))
    page.get_by_role("button", name="Match case").click()
    find.fill("utilis")
    expect(count).to_have_text(re.compile(r"of 3$"))
    page.get_by_role("button", name="Whole words").click()
    expect(count).to_have_text("No matches")
    page.get_by_role("button", name="Whole words").click()

    # Bea types a fourth one meanwhile: the count follows
    bea.editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.type(" utilisation", delay=10)
    expect(count).to_have_text(re.compile(r"of 4$"))

    # replace all (Ctrl+H), then one Ctrl+Z puts every one back
    page.keyboard.press("Control+h")
    replace = page.get_by_role("textbox", name="Replace with")
    expect(replace).to_be_visible()
    find.fill("utilisation")
    replace.fill("utilization")
    page.get_by_role("button", name="Replace all").click()
    eventually(lambda: "utilisation" not in ada.text().lower(), message="all replaced")
    assert ada.text().lower().count("utilization") == 4
    bea.page.wait_for_function("() => !window.quire.editor.getText().toLowerCase().includes('utilisation')")
    page.keyboard.press("Escape")
    expect(page.locator(".find-bar")).to_be_hidden()
    expect(ada.editor).to_be_focused()
    page.keyboard.press("Control+z")
    eventually(lambda: ada.text().lower().count("utilisation") == 4, message="one undo restores all")
    bea.page.wait_for_function("() => window.quire.editor.getText().toLowerCase().split('utilisation').length === 5")


def test_viewers_find_but_do_not_replace(quire, people):
    ada, vic = people("Ada"), people("Vic")
    doc_id = ada.new_doc("Read only")
    ada.invite(doc_id, vic, "viewer")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("alpha beta alpha", delay=10)
    ada.expect_state("saved")
    vic.open(doc_id, state="readonly")
    vic.expect_contains("alpha beta alpha")
    vic.page.keyboard.press("Control+h")
    expect(vic.page.get_by_role("textbox", name="Find in document")).to_be_focused()
    expect(vic.page.get_by_role("textbox", name="Replace with")).to_be_hidden()
    vic.page.keyboard.type("alpha", delay=20)
    expect(vic.page.locator(".find-count")).to_have_text(re.compile(r"(1 of 2|2 matches)"))


def test_outline_lists_headings_live_and_jumps(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Outlined", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    ada.editor.click()
    page = ada.page
    for line in ("# Intro", "Some words.", "## Method", "We measured.", "#### Detail",
                 "Fine print.", "###### Footnote level"):
        page.keyboard.type(line, delay=10)
        page.keyboard.press("Enter")
    ada.expect_state("saved")
    page.get_by_role("button", name="Outline").click()
    outline = page.locator("#outline-panel")
    links = outline.locator(".outline-link")
    expect(links).to_have_text(["Intro", "Method", "Detail", "Footnote level"])
    expect(outline.locator(".outline-item.level-4")).to_have_text("Detail")
    expect(outline.locator(".outline-item.level-6")).to_have_text("Footnote level")

    # Bea adds a heading: it appears in Ada's outline
    bea.editor.get_by_text("Fine print.").click()
    bea.page.wait_for_timeout(300)  # a person's pace
    bea.page.keyboard.press("End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("### Results", delay=10)
    expect(links).to_have_text(["Intro", "Method", "Detail", "Results", "Footnote level"])

    # choosing one puts the caret at its start, and marks the section being read
    links.nth(1).click()
    expect(links.nth(1)).to_have_attribute("aria-current", "location")
    page.keyboard.type("Our ", delay=10)
    eventually(lambda: "Our Method" in ada.text(), message="typed at the heading")
    bea.expect_contains("Our Method")
