"""Print and PDF (issue 18, item 11), and the Export menu, in a real browser.

| behaviour | test |
|---|---|
| printed, the page is the document: title and text, no header, toolbar, avatars, carets, comment margin or footer; highlights not yellow; links show their address | test_print_shows_only_the_document |
| "PDF with comments as footnotes…" numbers the open threads' passages and lists the notes after the text, for that print only | test_print_shows_only_the_document |
| the Export menu works by keyboard; each Markdown item downloads what it says; PDF prints | test_export_menu_by_keyboard |
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from playwright.sync_api import expect

from e2e.helpers import comment_on, select_text
from e2e.pdf_text import pdf_text

REPORT = """# Harbour report

The tide turns at noon. Read the [tide tables](https://tides.example.org/harbour) first.

## Moorings

| Berth | Boat |
| --- | --- |
| A1 | Curlew |
| A2 | Petrel |

```
fenders out
```

The pilot boards at the outer buoy.
"""

TEXT_PARTS = ["Harbour report", "The tide turns at noon.", "tide tables", "Moorings", "Curlew",
              "Petrel", "fenders out", "The pilot boards at the outer buoy."]
# what the page shows around the document: none of it is printed
CHROME = ["Keyboard shortcuts", "Outline", "History", "Export", "Normal", "words", "Saved"]

# a stand-in for the browser's print dialog (headless Chromium has none): counts the calls
STUB_PRINT = "() => { window.__prints = 0; window.print = () => { window.__prints += 1 } }"


def import_report(person, title: str) -> str:
    """A document made from REPORT by importing it, owned by `person`."""
    response = person.context.request.post(
        f"/api/docs/import?title={title}", data=REPORT,
        headers={"X-CSRF-Token": person.csrf, "Content-Type": "text/markdown"})
    assert response.status == 201, response.text()
    return response.json()["id"]


def flat(text: str) -> str:
    """Text with all whitespace removed (a PDF's text runs are split where its layout says)."""
    return re.sub(r"\s+", "", text)


def printed(page) -> str:
    """The text of the PDF that printing this page makes (headless Chromium's page.pdf())."""
    return flat(pdf_text(page.pdf()))


def hidden_in_print(page, selector: str) -> bool:
    return page.evaluate("s => [...document.querySelectorAll(s)].every(el => !el.checkVisibility())", selector)


def test_print_shows_only_the_document(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = import_report(ada, "Harbour report, week 12")
    ada.invite(doc_id, bea, "editor")
    ada.open(doc_id)
    bea.open(doc_id)
    # Bea is here: her avatar and her caret are on Ada's page
    select_text(bea, "outer buoy", caret=3)
    page = ada.page
    expect(page.locator(".collaboration-carets__caret")).to_have_count(1)
    expect(page.locator("#avatars li")).to_have_count(2)

    comment_on(ada, "tide turns at noon", "Check the almanac.")
    comment_on(bea, "outer buoy", "Which buoy?")
    comment_on(ada, "Curlew", "Spelling?")
    card = page.locator("#comments .thread").filter(has_text="Spelling?")
    card.click()
    card.get_by_role("button", name="Resolve thread").click()
    expect(page.locator("#comments .thread")).to_have_count(2)
    bea_card = page.locator("#comments .thread").filter(has_text="Which buoy?")
    bea_card.click()
    bea_card.get_by_role("textbox", name="Reply").fill("The green one.\nPort side.")
    page.keyboard.press("Control+Enter")
    expect(bea_card.locator(".message")).to_have_count(2)
    ada.expect_state("saved")
    expect(page.locator("#comments")).to_be_visible()
    expect(page.locator(".ProseMirror .comment-hl")).not_to_have_count(0)

    # Printed, the page is the document: the header, toolbar, avatars, carets, the comment margin
    # and the footer are gone; the title is printed above the text, black on white.
    page.emulate_media(media="print")
    for selector in ["header.topbar", "#toolbar", "#avatars", "#comments", ".statusbar",
                     ".collaboration-carets__caret", "#export-button"]:
        assert hidden_in_print(page, selector), f"{selector} is printed"
    title = page.locator(".print-title")
    expect(title).to_be_visible()
    expect(title).to_have_text("Harbour report, week 12")
    expect(ada.editor.get_by_text("The pilot boards at the outer buoy.")).to_be_visible()
    assert title.bounding_box()["y"] < ada.editor.bounding_box()["y"]  # above the text
    colors = page.evaluate("""() => [...document.querySelectorAll('.ProseMirror .comment-hl')]
        .map(el => getComputedStyle(el).backgroundColor)""")
    assert colors and set(colors) == {"rgba(0, 0, 0, 0)"}, colors  # no yellow highlights
    assert page.evaluate("getComputedStyle(document.querySelector('.ProseMirror p')).color") == "rgb(0, 0, 0)"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == "rgb(255, 255, 255)"
    link_after = page.evaluate(
        "getComputedStyle(document.querySelector('.ProseMirror a'), '::after').content")
    assert link_after == '" (https://tides.example.org/harbour)"'  # the address after the link
    page.emulate_media(media="null")  # no emulation: page.pdf() prints as print
    expect(title).to_be_hidden()

    # The PDF says the same: the document's text, its title and the link's address; nothing of
    # the page around it and no comment.
    text = printed(page)
    for part in [*TEXT_PARTS, "Harbour report, week 12", "(https://tides.example.org/harbour)"]:
        assert flat(part) in text, f"{part!r} not in the PDF: {text[:400]}"
    for label in [*CHROME, "Check the almanac.", "Which buoy?", "Bea"]:
        assert flat(label) not in text, f"{label!r} printed"

    # With comments as footnotes: each open thread's passage gets its number, the notes follow
    # the text (passage, who, what they said); the resolved thread is left out.
    page.evaluate(STUB_PRINT)
    page.get_by_role("button", name="Export", exact=True).click()
    page.get_by_role("menuitem", name="PDF with comments as footnotes…").click()
    assert page.evaluate("window.__prints") == 1
    expect(page.get_by_role("menu")).to_be_hidden()
    expect(page.get_by_role("button", name="Export", exact=True)).to_be_focused()
    expect(page.locator(".ProseMirror sup.print-ref")).to_have_text(["1", "2"])
    assert ada.text() == bea.text()  # the numbers are not in the text
    server_text = ada.content(doc_id)["text"]
    assert "The tide turns at noon. Read" in server_text and "the outer buoy." in server_text
    expect(bea.page.locator("sup.print-ref")).to_have_count(0)

    page.emulate_media(media="print")
    notes = page.locator(".print-notes li")
    expect(page.locator(".print-notes")).to_be_visible()
    expect(notes).to_have_count(2)
    expect(notes.nth(0)).to_contain_text("“tide turns at noon”")
    expect(notes.nth(0).locator(".print-note-author")).to_have_text("Ada")
    expect(notes.nth(0).locator(".print-note-body")).to_have_text("Check the almanac.")
    expect(notes.nth(1)).to_contain_text("“outer buoy”")
    expect(notes.nth(1).locator(".print-note-author")).to_have_text(["Bea", "Ada"])
    expect(notes.nth(1).locator(".print-note-body")).to_have_text(["Which buoy?", "The green one.\nPort side."])
    assert page.evaluate("[...document.querySelectorAll('.print-notes li')].map(li => li.value)") == [1, 2]
    text_box = ada.editor.bounding_box()
    assert page.locator(".print-notes").bounding_box()["y"] >= text_box["y"] + text_box["height"]  # after the text
    page.emulate_media(media="null")  # no emulation: page.pdf() prints as print
    expect(page.locator(".print-notes")).to_be_hidden()

    # (a PDF draws text in paint order, not reading order: what is where, the DOM said above)
    text = printed(page)
    for part in ["turns at noon1. Read", "the outer buoy2.", "Comments", "“tide turns at noon”",
                 "Check the almanac.", "“outer buoy”", "Bea", "Which buoy?", "The green one.",
                 "Port side.", "Harbour report", "tide tables", "Moorings", "Curlew", "fenders out"]:
        assert flat(part) in text, f"{part!r} not in the PDF: {text[:400]}"
    assert flat("Spelling?") not in text

    # That print is over (afterprint): the numbers and notes are gone, the next print is plain.
    expect(page.locator("sup.print-ref")).to_have_count(0)
    expect(page.locator(".print-notes")).to_have_count(0)
    assert flat("Check the almanac.") not in printed(page)


def test_export_menu_by_keyboard(quire, people):
    ada = people("Ada")
    doc_id = import_report(ada, "Harbour report")
    ada.open(doc_id)
    comment_on(ada, "outer buoy", "Which buoy?")
    ada.expect_state("saved")
    page = ada.page
    page.evaluate(STUB_PRINT)
    button = page.get_by_role("button", name="Export", exact=True)
    menu = page.get_by_role("menu", name="Export")
    item = lambda name: page.get_by_role("menuitem", name=name, exact=True)  # noqa: E731
    expect(button).to_have_attribute("aria-haspopup", "menu")
    expect(menu).to_be_hidden()

    # Enter opens on the first item; the arrows move round; Home and End; a letter jumps
    button.focus()
    page.keyboard.press("Enter")
    expect(menu).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(item("Markdown (.md)")).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(item("Markdown with comments as footnotes")).to_be_focused()
    page.keyboard.press("ArrowUp")
    page.keyboard.press("ArrowUp")
    expect(item("PDF with comments as footnotes…")).to_be_focused()
    page.keyboard.press("Home")
    expect(item("Markdown (.md)")).to_be_focused()
    page.keyboard.press("End")
    expect(item("PDF with comments as footnotes…")).to_be_focused()
    page.keyboard.press("m")
    expect(item("Markdown (.md)")).to_be_focused()
    page.keyboard.press("p")
    expect(item("PDF (print)…")).to_be_focused()
    # Escape closes and gives the focus back
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(button).to_have_attribute("aria-expanded", "false")

    def download(*keys: str) -> tuple[str, bytes]:
        with page.expect_download() as info:
            for key in keys:
                page.keyboard.press(key)
        assert info.value.failure() is None
        expect(menu).to_be_hidden()
        expect(button).to_be_focused()
        return info.value.suggested_filename, Path(info.value.path()).read_bytes()

    # Space opens too; Enter on an item downloads it
    name, data = download(" ", "Enter")
    markdown = data.decode()
    assert name.endswith(".md"), name
    assert markdown.startswith("# Harbour report")
    assert "[tide tables](https://tides.example.org/harbour)" in markdown
    assert "[^1]" not in markdown and "Which buoy?" not in markdown

    name, data = download("ArrowDown", "ArrowDown", "Enter")
    footnoted = data.decode()
    assert name.endswith(".md")
    assert "outer buoy[^1]" in footnoted
    assert "[^1]: Ada: Which buoy?" in footnoted

    name, data = download("ArrowDown", "m", "m", " ")  # Space chooses as well
    fronted = data.decode()
    assert fronted.startswith("---\n")
    assert 'title: "Harbour report"' in fronted
    assert "# Harbour report" in fronted

    name, data = download("ArrowUp", "ArrowUp", "ArrowUp", "Enter")
    assert name.endswith(".zip"), name
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        (inner,) = [n for n in bundle.namelist() if n.endswith(".md")]
        assert bundle.read(inner).decode().startswith("# Harbour report")

    # Tab closes the menu and moves on; a click elsewhere closes it
    page.keyboard.press("ArrowDown")
    expect(menu).to_be_visible()
    page.keyboard.press("Tab")
    expect(menu).to_be_hidden()
    expect(button).not_to_be_focused()
    button.click()
    expect(menu).to_be_visible()
    ada.editor.click()
    expect(menu).to_be_hidden()

    # PDF (print)… opens the browser's print dialog, plain
    button.focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("p")
    expect(item("PDF (print)…")).to_be_focused()
    page.keyboard.press(" ")
    assert page.evaluate("window.__prints") == 1
    expect(menu).to_be_hidden()
    expect(button).to_be_focused()
    expect(page.locator("sup.print-ref")).to_have_count(0)
    page.emulate_media(media="print")
    # the text starts with the title as its heading: it is not printed twice
    expect(page.locator(".print-title")).to_be_hidden()
    expect(page.locator(".ProseMirror h1")).to_have_text("Harbour report")
    expect(page.locator(".print-notes")).to_have_count(0)
    page.emulate_media(media="null")  # no emulation: page.pdf() prints as print

