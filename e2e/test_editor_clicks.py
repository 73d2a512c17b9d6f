"""Clicks place the caret where a person clicks (issue 18, defects 1 and 2), with another person
in the document."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import eventually


def click_into(person, word: str, fraction: float = 0.5) -> None:
    """A real mouse click `fraction` of the way into the first rendered `word` in the text."""
    box = person.page.evaluate("""([word]) => {
        const walker = document.createTreeWalker(document.querySelector('#editor .ProseMirror'), NodeFilter.SHOW_TEXT)
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
          const at = node.data.indexOf(word)
          if (at < 0) continue
          const range = document.createRange()
          range.setStart(node, at); range.setEnd(node, at + word.length)
          const r = range.getBoundingClientRect()
          return {x: r.left, y: r.top, width: r.width, height: r.height}
        }
        return null
    }""", [word])
    assert box, f"{word!r} not on screen"
    person.page.mouse.click(box["x"] + box["width"] * fraction, box["y"] + box["height"] / 2)


def test_a_click_in_a_commented_passage_places_the_caret_and_shows_the_thread(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Clicks", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    ada.editor.click()
    for line in ("Alpha passage about caching.", "Beta passage about storage.", "Gamma line."):
        ada.page.keyboard.type(line, delay=5)
        ada.page.keyboard.press("Enter")
    ada.expect_state("saved")
    ada.api("POST", f"/api/docs/{doc_id}/comments", {"quote": "caching", "body": "First?"})
    ada.api("POST", f"/api/docs/{doc_id}/comments", {"quote": "storage", "body": "Second?"})
    expect(ada.page.locator(".ProseMirror .comment-hl")).to_have_count(2)
    for word, typed, pattern, body in (("caching", "X", r"ca\w*X\w*ng", "First?"),
                                       ("storage", "Y", r"st\w*Y\w*ge", "Second?"),
                                       ("hing", "Z", r"ca\w*X\w*h\w*Z\w*ng", "First?")):
        ada.page.locator("#doc-title").click()  # the caret elsewhere first
        click_into(ada, word, 0.5)
        ada.page.wait_for_timeout(150)  # a person's pace
        ada.page.keyboard.type(typed)
        eventually(lambda p=pattern: re.search(p, ada.text()), message=f"{typed} inside {word!r}")
        expect(ada.page.locator("#comments .thread.is-active .message-body").first).to_have_text(body)
    bea.page.wait_for_function("p => new RegExp(p).test(window.quire.editor.getText())",
                               arg=r"ca\w*X\w*h\w*Z\w*ng")


def test_a_click_below_the_text_puts_the_caret_at_the_end(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Short", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Only line.", delay=5)
    ada.expect_state("saved")
    ada.page.locator("#doc-title").click()
    box = ada.page.locator("#editor").bounding_box()
    ada.page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 10)
    ada.page.wait_for_timeout(150)
    ada.page.keyboard.type(" More.")
    eventually(lambda: ada.text() == "Only line. More.", message="typed at the end")
    bea.expect_text("Only line. More.")


def test_a_new_document_starts_in_its_title_and_enter_moves_to_the_text(quire, people):
    ada = people("Ada")
    page = ada.page
    page.goto("/")
    page.get_by_role("button", name="New document").first.click()
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    expect(page.locator("#doc-title")).to_be_focused()
    page.keyboard.press("Control+a")
    page.keyboard.type("Fresh idea")
    page.keyboard.press("Enter")
    page.keyboard.type("Body text.")
    eventually(lambda: ada.text() == "Body text.", message="typed into the body")
    expect(page.locator("#doc-title")).to_have_value("Fresh idea")


SELECTED = ("(() => { const s = window.quire.editor.state.selection;"
            " return window.quire.editor.state.doc.textBetween(s.from, s.to, '\\n') })()")


def test_keyboard_selection_passes_another_persons_caret(quire, people):
    """Issue 18, defect 3: Home then Shift+End selects the whole line whether the other person's
    caret sits at its start, in its middle or at its end; so do Shift+arrows and word jumps."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Carets", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("The quick brown fox jumps", delay=5)
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.type("Second line here", delay=5)
    ada.expect_state("saved")
    bea.open(doc_id)
    line = "The quick brown fox jumps"
    for where in ("Home", "middle", "End"):
        # Bea puts her caret on the first line, at its start, middle or end
        click_into(bea, "quick" if where == "middle" else "The", 0.5)
        bea.page.keyboard.press("Home" if where == "Home" else "End")
        if where == "middle":
            click_into(bea, "brown", 0.0)
        expect(ada.page.locator(".collaboration-carets__caret")).to_have_count(1)
        # Ada selects the line with the keyboard
        click_into(ada, "jumps", 0.5)
        ada.page.wait_for_timeout(100)
        ada.page.keyboard.press("Home")
        ada.page.keyboard.press("Shift+End")
        eventually(lambda: ada.page.evaluate(SELECTED) == line,
                   message=f"Shift+End selects the line (Bea's caret at {where})")
        ada.page.keyboard.press("Home")
        for _ in range(len(line)):
            ada.page.keyboard.press("Shift+ArrowRight")
        eventually(lambda: ada.page.evaluate(SELECTED) == line,
                   message=f"Shift+Right across Bea's caret ({where})")
        ada.page.keyboard.press("End")
        ada.page.keyboard.press("Control+Shift+ArrowLeft")
        ada.page.keyboard.press("Control+Shift+ArrowLeft")
        eventually(lambda: ada.page.evaluate(SELECTED) == "fox jumps",
                   message=f"word jumps across Bea's caret ({where})")
