"""Clicks place the caret where a person clicks (issue 18, defects 1 and 2), with another person
in the document."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.helpers import eventually, selected_text


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
    at_end = ada.page.evaluate("(() => { const s = window.quire.editor.state;"
                               " return s.selection.empty && s.selection.to === s.doc.content.size - 1 })()")
    assert at_end, "the caret is at the end of the text"
    assert ada.page.evaluate("document.activeElement.closest('.ProseMirror') !== null")
    ada.page.keyboard.type(" More.")
    eventually(lambda: ada.text() == "Only line. More.", message="typed at the end")
    assert ada.text() == "Only line. More."  # nothing typed was lost
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


def test_a_new_documents_caret_stays_in_the_text_across_a_reconnect(quire, people):
    """The title takes the caret once, when the new document opens: a reconnect later (a new
    sync) leaves the caret where the person is writing."""
    ada = people("Ada")
    ada.allow_network_errors()
    page = ada.page
    page.goto("/")
    page.get_by_role("button", name="New document").first.click()
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    expect(page.locator("#doc-title")).to_be_focused()
    page.keyboard.type("Fresh idea", delay=20)
    page.keyboard.press("Enter")
    page.keyboard.type("Body text.", delay=20)
    eventually(lambda: ada.text() == "Body text.", message="typed into the body")
    ada.expect_state("saved")
    ada.context.set_offline(True)
    ada.expect_state("offline")
    ada.context.set_offline(False)
    ada.expect_state("saved")
    page.wait_for_timeout(300)  # a few frames after the new sync
    page.keyboard.type(" More.", delay=20)
    eventually(lambda: ada.text() == "Body text. More.", message="typed on after the reconnect")
    expect(page.locator("#doc-title")).to_have_value("Fresh idea")


def test_a_new_documents_title_leaves_the_focus_where_the_person_moved_it(quire, people):
    """The server's first frames are held back (a slow network): the title stays locked, and the
    person moves on with the keyboard meanwhile. When the frames arrive and the title unlocks, it
    does not pull the focus back from where the person put it."""
    ada = people("Ada")
    page = ada.page
    held: list = []
    release: list = []  # set once the frames may flow

    def hold_first_frames(ws) -> None:
        server = ws.connect_to_server()
        ws.on_message(server.send)

        def from_server(message) -> None:
            if release:
                ws.send(message)
            else:
                held.append((ws, message))
        server.on_message(from_server)

    page.route_web_socket(re.compile(r"/ws/"), hold_first_frames)
    page.goto("/")
    page.get_by_role("button", name="New document").first.click()
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    expect(page.locator("#doc-title")).to_have_js_property("readOnly", True)
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    moved_to = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert page.evaluate("document.activeElement !== document.body"), "Tab moved the focus"
    for _ in range(100):  # Playwright runs the route's handlers only inside its own calls
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the server's first frames arrived (held back)"
    release.append(True)
    for ws, message in held:
        ws.send(message)
    expect(page.locator("#doc-title")).to_have_js_property("readOnly", False)
    page.wait_for_timeout(300)  # a few frames after the title unlocked
    assert page.evaluate("document.activeElement.outerHTML.slice(0, 120)") == moved_to
    expect(page.locator("#doc-title")).not_to_be_focused()


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
        eventually(lambda: selected_text(ada.page) == line,
                   message=f"Shift+End selects the line (Bea's caret at {where})")
        ada.page.keyboard.press("Home")
        for _ in range(len(line)):
            ada.page.keyboard.press("Shift+ArrowRight")
        eventually(lambda: selected_text(ada.page) == line,
                   message=f"Shift+Right across Bea's caret ({where})")
        ada.page.keyboard.press("End")
        ada.page.keyboard.press("Control+Shift+ArrowLeft")
        ada.page.keyboard.press("Control+Shift+ArrowLeft")
        eventually(lambda: selected_text(ada.page) == "fox jumps",
                   message=f"word jumps across Bea's caret ({where})")


@pytest.mark.parametrize("pace", [0, 30, 90])
def test_two_people_typing_at_one_spot_each_keep_their_caret_after_their_text(quire, people, pace):
    """Issue 18, defect 5: typing at the end of the same paragraph at once, each person's
    caret stays after what they just typed (no "bbbaaa" with spaces out of place)."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("One spot", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Start.", delay=5)
    ada.expect_state("saved")
    bea.open(doc_id)
    bea.expect_text("Start.")
    for person in (ada, bea):
        click_into(person, "Start.", 0.99)
        person.page.keyboard.press("End")
    words = {ada: "alpha ", bea: "bravo "}
    for i in range(len("alpha ")):
        for person in (ada, bea):
            person.page.keyboard.type(words[person][i])
            person.page.wait_for_timeout(pace)
    eventually(lambda: ada.text() == bea.text(), message="converged")
    text = ada.text()
    assert "alpha " in text and "bravo " in text, text


# Each letter of the paragraph holding `word`, with whose it is in Yjs: "me" (this browser's
# client) or "other", in Yjs order, read from the Yjs binding's fragment.
YJS_LETTERS = """(word) => {
    const editor = window.quire.editor
    const binding = editor.state.plugins.find((p) => p.key === 'y-sync$').getState(editor.state).binding
    const me = binding.doc.clientID
    const texts = []
    const walk = (type) => type.toArray().forEach((child) => {
        if (typeof child.toDelta === 'function') texts.push(child); else if (child.toArray) walk(child)
    })
    walk(binding.type)
    const text = texts.find((t) => t.toDelta().map((d) => d.insert).join('').includes(word))
    const letters = []
    for (let item = text._start; item; item = item.right) {
        if (item.deleted || typeof item.content.str !== 'string') continue
        for (const ch of item.content.str) letters.push([ch, item.id.client === me ? 'me' : 'other'])
    }
    return letters
}"""


def test_a_letter_typed_before_the_same_letter_is_written_where_it_was_typed(quire, people):
    """Issue 18, defect 5, made deterministic: the Yjs binding wrote a letter typed just before an
    identical letter after it ("Start.br|a" + "a": the new "a" followed the co-author's "a" in
    Yjs), so the person's caret sat before their own letter and concurrent typing at that spot
    interleaved ("Start.bralpha vo a"). The letters must be in Yjs in the order they were typed."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Same letter", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Start.a", delay=5)
    ada.expect_state("saved")
    bea.open(doc_id)
    bea.expect_text("Start.a")
    click_into(bea, "Start.a", 0.99)
    bea.page.keyboard.press("End")
    bea.page.keyboard.press("ArrowLeft")  # before Ada's "a"
    bea.page.keyboard.type("bra", delay=5)
    bea.expect_text("Start.braa")
    ada.expect_text("Start.braa")
    letters = bea.page.evaluate(YJS_LETTERS, "Start.")
    assert letters[-4:] == [["b", "me"], ["r", "me"], ["a", "me"], ["a", "other"]], letters
    # Ada goes on typing after her "a", Bea after her "bra": each word stays whole
    ada.page.keyboard.press("End")  # her caret is still after her "a", at the end
    for letter_a, letter_b in zip("lpha", "vo s", strict=True):
        ada.page.keyboard.type(letter_a)
        bea.page.keyboard.type(letter_b)
    eventually(lambda: ada.text() == bea.text() and "alpha" in ada.text(), message="converged")
    assert ada.text() == "Start.bravo salpha", ada.text()


WORD_HTML = (
    '<meta charset="utf-8"><p class="MsoNormal" style="margin:0cm;font-family:Calibri;'
    'mso-fareast-font-family:Calibri"><b style="mso-bidi-font-weight:normal">'
    '<span style="font-size:12pt;color:#c00000">Bold red</span></b>'
    '<span style="font-size:12pt"> and <i style="font-style:italic">italic</i> words</span></p>'
    '<p style="margin-top:4pt"><span style="background:yellow">Second paragraph</span></p>')


def test_pasting_styled_html_arrives_clean_without_console_errors(quire, people):
    """Issue 18, defect 6: HTML from Word or Google Docs carries style attributes; pasting it
    must keep bold and italic, drop the styles before they reach the page (the CSP would report
    each one as a violation), and log nothing."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Paste", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    violations: list[str] = []
    ada.page.on("console", lambda m: violations.append(m.text) if "Content Security" in m.text
                or "Content-Security" in m.text else None)
    ada.editor.click()
    ada.page.evaluate("""html => {
        const data = new DataTransfer()
        data.setData('text/html', html)
        data.setData('text/plain', 'Bold red and italic words\\nSecond paragraph')
        const target = document.querySelector('#editor .ProseMirror')
        target.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true, cancelable: true}))
    }""", WORD_HTML)
    eventually(lambda: "Second paragraph" in ada.text(), message="pasted")
    html = ada.page.evaluate("document.querySelector('#editor .ProseMirror').innerHTML")
    assert "style=" not in html.replace('style="border-color', "").split("collaboration")[0]
    json = ada.json()
    marks = {m["type"] for block in json["content"] for node in block.get("content", [])
             for m in node.get("marks", [])}
    assert {"bold", "italic"} <= marks
    bea.expect_contains("Second paragraph")
    ada.page.wait_for_timeout(300)
    assert violations == []
