"""Who wrote what (issue 15), as people use it: two people type into one paragraph with real key
presses in separate browser contexts; "Show authors" colours each passage by the account that
typed it, live, with a legend; the colours are the same after the server restarts and the page
reloads, and in a version's preview."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import eventually

BY_COLOUR = """root => {
    const texts = {}
    for (const el of document.querySelectorAll(root + ' .author')) {
      const colour = [...el.classList].find((c) => c.startsWith('author-c'))
      texts[colour] = (texts[colour] || '') + el.textContent
    }
    return texts
}"""


def by_colour(person, root: str = "#editor") -> dict[str, str]:
    return person.page.evaluate(BY_COLOUR, root)


def legend(person) -> list[str]:
    return person.page.locator("#authors-legend .authors-legend-name").all_inner_texts()


def test_show_authors_colours_each_persons_text_live_and_after_a_restart(quire, people):
    ada, bo = people("Ada"), people("Bo")
    doc_id = ada.new_doc("Who wrote it")
    ada.invite(doc_id, bo, "editor")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Ada wrote this.", delay=15)
    ada.expect_state("saved")

    bo.open(doc_id)
    bo.editor.click()
    bo.page.keyboard.press("End")
    bo.page.keyboard.type(" Bo added this.", delay=25)
    bo.expect_state("saved")
    ada.expect_text("Ada wrote this. Bo added this.")

    # nothing is coloured until someone asks
    assert by_colour(ada) == {}
    toggle = ada.page.get_by_role("button", name="Show authors")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    texts = eventually(lambda: (lambda t: t if len(t) == 2 else None)(by_colour(ada)))
    assert sorted(texts.values()) == [" Bo added this.", "Ada wrote this."]
    ada_colour = next(c for c, t in texts.items() if t.startswith("Ada"))
    expect(ada.page.locator("#authors-legend")).to_be_visible()
    assert legend(ada) == ["Ada", "Bo"]  # most text first

    # live: what Bo types now is Bo's colour on Ada's screen, with her caret on the same line
    ada.page.keyboard.press("End")
    bo.page.keyboard.type(" More", delay=25)
    eventually(lambda: any(t.endswith("Bo added this. More") for t in by_colour(ada).values()))
    assert by_colour(ada)[ada_colour] == "Ada wrote this."

    # the same after the server restarts and the page reloads (the choice is remembered too)
    before = by_colour(ada)
    bo.close()
    ada.allow_network_errors()  # the page retries while the server is down
    quire.stop()
    quire.start()
    ada.page.reload()
    ada.expect_state("saved")
    expect(ada.page.get_by_role("button", name="Show authors")).to_have_attribute("aria-pressed", "true")
    eventually(lambda: by_colour(ada) == before)
    assert legend(ada) == ["Bo", "Ada"]  # Bo has written more by now

    # the server says the same
    found = ada.api("GET", f"/api/docs/{doc_id}/authors").json()
    assert [a["name"] for a in found["authors"]] == ["Bo", "Ada"]
    assert [(r["text"], r["author"] is not None) for r in found["runs"]] == [
        ("Ada wrote this.", True), (" Bo added this. More", True)]

    # a version's preview shows who wrote it, in the same colours
    ada.api("POST", f"/api/docs/{doc_id}/versions", {"name": "Both of us"})
    ada.page.get_by_role("button", name="History").click()
    ada.page.locator(".version-item", has_text="Both of us").click()
    expect(ada.page.locator("#version-preview .version-authors")).to_be_visible()
    eventually(lambda: by_colour(ada, "#version-preview") == before)
    expect(ada.page.locator("#version-preview .version-authors .authors-legend-name")).to_have_text(["Bo", "Ada"])

    # hiding them again
    ada.page.get_by_role("button", name="Back to the document").click()
    ada.page.get_by_role("button", name="Show authors").click()
    eventually(lambda: by_colour(ada) == {})
    expect(ada.page.locator("#authors-legend")).to_be_hidden()


def test_show_authors_by_keyboard(quire, people):
    ada = people("Ada")
    doc_id = ada.new_doc("Keyboard")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Typed by Ada.", delay=15)
    ada.expect_state("saved")
    toggle = ada.page.get_by_role("button", name="Show authors")
    toggle.focus()
    ada.page.keyboard.press("Enter")
    expect(toggle).to_have_attribute("aria-pressed", "true")
    eventually(lambda: list(by_colour(ada).values()) == ["Typed by Ada."])
    ada.page.keyboard.press("Space")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    eventually(lambda: by_colour(ada) == {})
