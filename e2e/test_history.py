"""Version history: name a version, change the text, compare, restore; everyone sees the result."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import select_text


def test_name_edit_compare_and_restore_a_version(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Proposal", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    page, keys = ada.page, ada.page.keyboard

    ada.editor.click()
    keys.press("Control+Alt+1")
    keys.type("Proposal")
    keys.press("Enter")
    keys.type("We deliver the draft on Monday.")
    original = "Proposal\nWe deliver the draft on Monday."
    bea.expect_text(original)
    ada.expect_state("saved")

    # Name the current state from the History panel.
    page.get_by_role("button", name="History", exact=True).click()
    panel = page.get_by_role("complementary", name="Version history")
    expect(panel).to_be_visible()
    expect(page.locator("#comments")).to_be_hidden()  # one panel at a time
    panel.get_by_role("button", name="Name current version").click()
    panel.get_by_role("textbox", name="Version name").fill("Sent to legal")
    keys.press("Enter")
    named = panel.locator(".version-item.kind-named")
    expect(named).to_have_count(1)
    expect(named.locator(".version-name")).to_have_text("Sent to legal")

    # Change the text, then look at the named version: the difference is marked.
    select_text(ada, "Monday")
    keys.type("Friday, with the budget")
    edited = "Proposal\nWe deliver the draft on Friday, with the budget."
    bea.expect_text(edited)
    ada.expect_state("saved")
    named.click()
    preview = page.get_by_role("region", name="Version preview")
    expect(preview).to_be_visible()
    expect(ada.editor).to_be_hidden()
    expect(preview.locator("h1")).to_have_text("Proposal")
    expect(preview.locator(".version-prose .diff-ins")).to_have_text("Monday")
    expect(preview.locator(".version-prose .diff-del")).to_have_text("Friday, with the budget")

    # Restore it (after confirming): both editors show the named text again, live.
    preview.get_by_role("button", name="Restore this version").click()
    dialog = page.get_by_role("dialog", name="Restore “Sent to legal”?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Restore", exact=True).click()
    bea.expect_text(original)
    expect(preview).to_be_hidden()
    ada.expect_text(original)
    expect(panel.get_by_role("status")).to_contain_text("Restored “Sent to legal”")
    expect(panel.locator(".version-item.kind-restore")).to_have_count(1)
    assert ada.content(doc_id)["text"].strip() == original


def test_blocks_added_since_a_version_are_drawn_as_blocks_where_they_are(quire, people):
    """Issue 18, defect 4: a paragraph added at the end showed struck through at the top, run
    into the first heading and styled as it; a list item added left stray ¶ lines."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Plan", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    page, keys = ada.page, ada.page.keyboard
    ada.editor.click()
    keys.press("Control+Alt+1")
    keys.type("Plan")
    keys.press("Enter")
    keys.type("- first")
    keys.press("Enter")
    keys.type("third")
    keys.press("Enter")
    keys.press("Enter")
    keys.type("The end.")
    bea.expect_contains("The end.")
    ada.expect_state("saved")
    page.get_by_role("button", name="History", exact=True).click()
    panel = page.get_by_role("complementary", name="Version history")
    panel.get_by_role("button", name="Name current version").click()
    panel.get_by_role("textbox", name="Version name").fill("Before")
    keys.press("Enter")
    named = panel.locator(".version-item.kind-named")
    expect(named).to_have_count(1)

    # Bea adds a list item in the middle and a paragraph at the end
    bea.editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("Added at the end.")
    bea.page.keyboard.press("Control+Home")
    bea.page.keyboard.press("ArrowDown")  # in "first"
    bea.page.keyboard.press("End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("second")
    ada.expect_contains("Added at the end.")
    ada.expect_contains("second")
    ada.expect_state("saved")

    named.click()
    preview = page.get_by_role("region", name="Version preview")
    expect(preview).to_be_visible()
    prose = preview.locator(".version-prose")
    expect(prose.locator("h1")).to_have_text("Plan")  # the heading is the heading, alone
    added = prose.locator(".diff-del-blocks p")
    expect(added).to_have_text("Added at the end.")
    # … drawn after "The end.", as a paragraph of its own
    order = prose.evaluate("""el => [...el.querySelectorAll('h1, li, p')]
      .filter((n) => !n.closest('li') || n.tagName === 'LI').map((n) => n.textContent.trim())""")
    assert order.index("Added at the end.") > order.index("The end."), order
    item = prose.locator("ul > .diff-del-items > li.diff-del-block, ul li.diff-del-block")
    expect(item.first).to_have_text("second")
    items = prose.locator("ul li").evaluate_all("els => els.map((e) => e.textContent.trim())")
    assert items == ["first", "second", "third"], items
    expect(prose.locator(".diff-break")).to_have_count(0)  # no stray ¶
