"""@mentions in the document's text, as a person makes them: typing "@" suggests the people who
can read the document, the keyboard picks one, and the person named is notified by the server."""

from __future__ import annotations

import time

from playwright.sync_api import expect


def test_typing_at_suggests_people_and_the_one_picked_is_notified(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Mentions", editors=(bea,))
    bea.open(doc_id)  # Bea is in the document too, her caret in the text
    bea.editor.click()
    ada.open(doc_id)
    ada.editor.click()
    keys = ada.page.keyboard
    keys.type("Numbers from ", delay=20)
    keys.type("@", delay=20)
    listbox = ada.page.get_by_role("listbox", name="People to mention")
    expect(listbox).to_be_visible()
    expect(listbox.get_by_role("option")).to_have_count(2)  # the owner and Bea
    keys.type("b", delay=20)
    expect(listbox.get_by_role("option")).to_have_count(1)
    expect(listbox.get_by_role("option").first).to_contain_text("Bea")
    keys.press("Backspace")  # back to everyone: the keyboard picks the second
    expect(listbox.get_by_role("option")).to_have_count(2)
    keys.press("ArrowDown")
    expect(listbox.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    keys.press("Enter")
    expect(listbox).to_be_hidden()
    keys.type("please check.", delay=20)

    mention = ada.editor.locator(".mention")
    expect(mention).to_have_text("@Bea")
    bea.expect_contains("please check.")
    expect(bea.editor.locator(".mention")).to_have_text("@Bea")

    # Escape closes the list and keeps what was typed
    keys.press("Enter")
    keys.type("@a", delay=20)
    expect(listbox).to_be_visible()
    keys.press("Escape")
    expect(listbox).to_be_hidden()
    keys.type("t noon", delay=20)
    ada.expect_contains("@at noon")

    deadline = time.monotonic() + 15
    found = []
    while time.monotonic() < deadline:
        found = [n for n in bea.api("GET", "/api/notifications").json()["items"]
                 if n["kind"] == "mention"]
        if found:
            break
        time.sleep(0.25)
    assert [(n["quote"], n["doc_id"]) for n in found] == [("Numbers from @Bea please check.", doc_id)]
    assert not [n for n in ada.api("GET", "/api/notifications").json()["items"] if n["kind"] == "mention"]
    assert f"Numbers from @{bea.username} please check." in ada.api("GET", f"/api/docs/{doc_id}/export.md").text()


def test_mentioning_someone_without_access_offers_the_owner_to_share(quire, people):
    ada, bea, cy, dan = people("Ada"), people("Bea"), people("Cy"), people("Dan")
    doc_id = ada.new_doc("Sharing by mention", editors=(bea,))
    bea.open(doc_id)
    bea.editor.click()
    bea.page.keyboard.type(f"Ask @{dan.username}", delay=20)
    status = bea.page.get_by_role("listbox", name="People to mention").get_by_role("status")
    expect(status).to_have_text(f"Nobody called “{dan.username}” can see this document")
    bea.page.keyboard.press("Escape")

    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.press("Control+End")  # just after Bea's "@dan…": Enter is a new line
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.type(f"Over to @{cy.username}", delay=20)
    offer = ada.page.get_by_role("option", name=f"Share with @{cy.username} and mention them")
    expect(offer).to_be_visible()
    expect(offer).to_have_attribute("aria-selected", "false")  # a stray Enter shares nothing
    ada.page.keyboard.press("ArrowDown")
    ada.page.keyboard.press("Enter")
    expect(ada.editor.locator(".mention")).to_have_text("@Cy")
    shares = ada.api("GET", f"/api/docs/{doc_id}/shares").json()
    assert [(s["username"], s["role"]) for s in shares if s["username"] == cy.username] == [
        (cy.username, "commenter")]
    deadline = time.monotonic() + 15
    kinds: list[str] = []
    while time.monotonic() < deadline:
        kinds = sorted(n["kind"] for n in cy.api("GET", "/api/notifications").json()["items"])
        if kinds == ["mention", "share"]:
            break
        time.sleep(0.25)
    assert kinds == ["mention", "share"]
    assert dan.api("GET", "/api/notifications").json()["items"] == []
