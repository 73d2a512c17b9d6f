"""Search across documents in the browser: the dashboard's box and the Ctrl/Cmd+K palette find
what was typed (text and comments), and a hit opens the document at the match."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import eventually, selected_text


def test_palette_and_dashboard_find_text_and_comments(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Delivery notes", editors=(bea,))
    bea.open(doc_id)  # someone else is in the document, their caret at the start
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.press("Control+End")
    ada.page.keyboard.type("Edge nodes use tiered caching.", delay=20)
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.type("The origin shield absorbs misses.", delay=20)
    ada.expect_state("saved")
    bea.expect_contains("origin shield")
    ada.api("POST", f"/api/docs/{doc_id}/comments",
            {"quote": "origin shield", "body": "Who operates the shield?"})
    eventually(lambda: ada.api("GET", "/api/search?q=operates").json()["total"] == 1,
               timeout=15, message="the comment indexed")
    eventually(lambda: ada.api("GET", "/api/search?q=tiered").json()["total"] == 1,
               timeout=15, message="the text indexed")

    # the dashboard's box: titles above, text and comment matches below
    page = ada.page
    page.goto("/")
    box = page.get_by_role("searchbox", name="Search documents: titles, text and comments")
    box.click()
    page.keyboard.type("shield", delay=30)
    hits = page.locator("#search-hits .hit")
    expect(hits).to_have_count(2)
    expect(page.locator("#search-hits")).to_contain_text("In a comment")
    expect(page.locator("#search-hits mark").first).to_have_text(re.compile("shield", re.I))

    # the palette, keyboard only: Ctrl+K, type, Enter opens the document at the words
    box.press("Escape")
    page.keyboard.press("Control+k")
    dialog = page.get_by_role("dialog", name="Search all documents")
    expect(dialog).to_be_visible()
    page.keyboard.type("tiered cach", delay=30)
    options = dialog.get_by_role("option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("In the text")
    expect(options.first).to_have_attribute("aria-selected", "true")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/d/{doc_id}$"))
    eventually(lambda: selected_text(page) == "tiered", message="the match selected")

    # inside the text, Ctrl+K stays the link dialog; Ctrl+Shift+K opens the palette
    ada.editor.click()
    page.keyboard.press("Control+Shift+K")
    expect(dialog).to_be_visible()
    page.keyboard.type("who operates", delay=30)
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("In a comment")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(rf"/d/{doc_id}$"))
    expect(page.locator("#comments .thread.is-active .message-body")).to_have_text(
        "Who operates the shield?")

    # Escape closes the palette and gives the focus back
    page.locator("#doc-title").click()
    page.keyboard.press("Control+k")
    expect(dialog).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(page.locator("#doc-title")).to_be_focused()


def test_search_never_shows_what_you_cannot_read(quire, people):
    ada, cal = people("Ada"), people("Cal")
    secret = ada.new_doc("Board minutes")
    ada.open(secret)
    ada.editor.click()
    ada.page.keyboard.type("Acquisition of Quokka Ltd approved.", delay=10)
    ada.expect_state("saved")
    eventually(lambda: ada.api("GET", "/api/search?q=quokka").json()["total"] == 1, timeout=15)
    page = cal.page
    page.goto("/")
    page.keyboard.press("Control+k")
    page.keyboard.type("quokka", delay=30)
    expect(page.get_by_role("dialog", name="Search all documents")).to_contain_text(
        "Nothing matches")
