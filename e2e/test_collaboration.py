"""Two people editing one document: concurrent typing converges, formatting travels."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import converged, eventually
from e2e.normalize import same_document


def test_two_people_type_into_the_same_paragraph_at_once(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Concurrent typing", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Hello world")
    bea.open(doc_id)
    bea.expect_text("Hello world")

    # Ada writes at the end of the paragraph, Bea in its middle (after "Hello "), keystrokes
    # interleaved so that each one leaves before the other's arrives.
    ada.page.keyboard.press("End")
    bea.editor.click()
    bea.page.keyboard.press("Home")
    for _ in range(len("Hello ")):
        bea.page.keyboard.press("ArrowRight")
    for _ in range(20):
        ada.page.keyboard.type("a")
        bea.page.keyboard.type("b")

    expected = "Hello " + "b" * 20 + "world" + "a" * 20
    ada.expect_text(expected)
    bea.expect_text(expected)
    ada.expect_state("saved")
    bea.expect_state("saved")
    doc = converged(ada, bea)

    server = ada.content(doc_id)
    assert server["text"].strip() == expected
    assert same_document(doc, server["json"]), (doc, server["json"])


def test_a_caret_moved_by_arrow_keys_stays_when_a_co_author_types(quire, people):
    """The browser tells the editor of an arrow-key move a moment later (Chromium fires
    selectionchange late and coalesced); a co-author's letter arriving in between must not put
    the caret back where it was before the move."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Moving caret", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Hello world")
    bea.open(doc_id)
    bea.expect_text("Hello world")
    bea.editor.click()
    bea.page.keyboard.press("Home")

    # Ada types at the end while Bea walks her caret to just before "world", one letter for one
    # step, then Bea types.
    for _ in range(len("Hello ")):
        ada.page.keyboard.type("!")
        bea.page.keyboard.press("ArrowRight")
    bea.page.keyboard.type("X")
    expected = "Hello Xworld" + "!" * len("Hello ")
    bea.expect_text(expected)
    ada.expect_text(expected)


def test_formatting_by_one_appears_for_the_other(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Formatting", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    page, keys = ada.page, ada.page.keyboard

    ada.editor.click()
    keys.press("Control+Alt+1")
    keys.type("Quarterly report")
    keys.press("Enter")
    keys.type("Plain and ")
    keys.press("Control+b")
    keys.type("bold")
    keys.press("Control+b")
    keys.type(" words.")
    keys.press("Enter")

    page.get_by_role("button", name="Bulleted list").click()
    keys.type("first point")
    keys.press("Enter")
    keys.type("second point")
    keys.press("Enter")
    keys.press("Enter")  # an empty item leaves the list

    keys.press("Control+k")
    dialog = page.get_by_role("dialog", name="Edit link")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Text").fill("the Quire site")
    dialog.get_by_label("Link").fill("example.com")
    dialog.get_by_label("Link").press("Enter")
    expect(dialog).to_be_hidden()
    keys.type(" is the place.")  # focus is back in the text at once, and outside the link
    keys.press("Enter")

    page.get_by_role("button", name="Insert table").click()
    keys.type("Region")
    expect(page.get_by_role("button", name="Add row below")).to_be_visible()

    other = bea.page.locator(".ProseMirror")
    expect(other.locator("h1")).to_have_text("Quarterly report")
    expect(other.locator("strong")).to_have_text("bold")
    expect(other.locator("ul > li")).to_have_text(["first point", "second point"])
    link = other.locator('a[href="https://example.com"]')
    expect(link).to_have_text("the Quire site")
    expect(other.locator("table tr")).to_have_count(3)
    expect(other.locator("table th").first).to_contain_text("Region")  # plus Ada's caret label

    # the title is shared live too
    page.locator("#doc-title").fill("Q3 report")
    expect(bea.page.locator("#doc-title")).to_have_value("Q3 report")
    expect(bea.page).to_have_title("Q3 report — Quire")

    # the toolbar shows what is active where Bea's cursor is
    bea.page.locator(".ProseMirror strong").click()
    expect(bea.page.get_by_role("button", name="Bold")).to_have_attribute("aria-pressed", "true")

    ada.expect_state("saved")
    bea.expect_state("saved")
    doc = converged(ada, bea)
    server = eventually(lambda: (c := ada.content(doc_id)) and same_document(doc, c["json"]) and c,
                        message="server copy equal to the editors")
    assert "Quarterly report" in server["text"]


def test_undo_takes_back_only_your_own_changes(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Undo", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Ada's sentence.")
    bea.expect_contains("Ada's sentence.")
    bea.editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("Bea's sentence.")
    ada.expect_contains("Bea's sentence.")

    ada.page.get_by_role("button", name="Undo").click()
    for person in (ada, bea):
        person.expect_contains("Bea's sentence.")
        person.page.wait_for_function("() => !window.quire.editor.getText().includes(\"Ada's\")")
    ada.page.keyboard.press("Control+Shift+z")
    bea.expect_contains("Ada's sentence.")
    # redo brings Ada's words back, and Bea's were never touched
    assert "Ada's sentence." in bea.text() and "Bea's sentence." in bea.text()
