"""Who is here: carets with names, avatars, leaving, and the first-visit name card."""

from __future__ import annotations

from playwright.sync_api import expect


def test_carets_and_avatars_come_and_go(quire, people, artifacts):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Presence", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("A paragraph both of us are looking at, with room for two carets.")
    bea.open(doc_id)
    bea.editor.click()
    bea.page.keyboard.press("Home")

    bea_caret = ada.page.locator('.collaboration-carets__caret[data-name="Bea"]')
    expect(bea_caret).to_be_visible()
    assert bea_caret.evaluate("el => getComputedStyle(el, '::after').content") == '"Bea"'
    ada_caret = bea.page.locator('.collaboration-carets__caret[data-name="Ada"]')
    expect(ada_caret).to_be_visible()
    assert ada_caret.evaluate("el => getComputedStyle(el, '::after').content") == '"Ada"'

    # Bea selects a word: Ada sees it tinted in Bea's colour
    bea.page.keyboard.press("Shift+Control+ArrowRight")
    expect(ada.page.locator(".collaboration-carets__selection")).to_have_count(1)

    for person in (ada, bea):
        avatars = person.page.locator("#avatars .avatar")
        expect(avatars).to_have_count(2)
        names = sorted(avatars.evaluate_all("els => els.map(e => e.dataset.name)"))
        assert names == ["Ada", "Bea"]
    # colours are distinct, valid #rrggbb
    colors = ada.page.locator("#avatars .avatar").evaluate_all("els => els.map(e => e.dataset.color)")
    assert len(set(colors)) == 2 and all(len(c) == 7 and c.startswith("#") for c in colors)

    ada.page.screenshot(path=str(artifacts / "two-authors.png"))

    bea.close()
    # both within one second of Bea leaving (the waits run side by side in the page)
    ada.page.wait_for_function(
        """() => !document.querySelector('.collaboration-carets__caret[data-name="Bea"]')
               && document.querySelectorAll('#avatars .avatar').length === 1""",
        timeout=1000)


def test_first_visit_asks_for_a_name_inline(quire, people):
    """A link visitor without an account names themselves in a small card; signed-in people
    appear under their account's name and are never asked."""
    ada = people("Ada")
    doc_id = ada.new_doc("Names")
    ada.open(doc_id)
    expect(ada.page.locator(".name-card")).to_have_count(0)
    expect(ada.page.locator("#avatars .avatar-self")).to_have_attribute("data-name", "Ada")
    link = ada.share_link(doc_id, "editor")
    cleo = people(None, account=False)
    cleo.open(doc_id, token=link["token"])
    assert "token" not in cleo.page.url  # taken out of the address bar at once
    card = cleo.page.locator(".name-card")
    expect(card).to_be_visible()
    # the card does not block writing
    cleo.editor.click()
    cleo.page.keyboard.type("Typing before choosing a name.")
    card.get_by_label("What name should others see?").fill("Cleo")
    card.get_by_role("button", name="Save").click()
    expect(card).to_have_count(0)
    expect(cleo.page.locator("#avatars .avatar-self")).to_have_attribute("data-name", "Cleo")

    expect(ada.page.locator('#avatars .avatar[data-name="Cleo"]')).to_have_count(1)

    # a reload (without the token in the address) still opens the document: this tab kept it
    cleo.page.reload()
    cleo.page.locator(".ProseMirror").wait_for()
    cleo.expect_contains("Typing before choosing a name.")
    expect(cleo.page.locator("#avatars .avatar-self")).to_have_attribute("data-name", "Cleo")
    expect(cleo.page.locator(".name-card")).to_have_count(0)
    cleo.expect_state("saved")
