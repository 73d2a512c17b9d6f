"""The editor on a phone (390 px wide) and a tablet held upright (768 px): the header's title, save state and every control can be
seen and tapped, its menus open whole on screen, and the formatting toolbar stays right under the
header as the text scrolls. (On a phone the header used to run off the screen's right edge:
History, Export, the bell and Sign out could not be reached, and the avatars covered the title;
on the tablet they covered the save state.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

PHONE = {"width": 390, "height": 844}
TABLET = {"width": 768, "height": 1024}  # held upright

# what a person reaches in the editor's header, by the name a screen reader gives it
CONTROLS = ("Share", "Make a copy", "Comments", "Outline", "History", "Export", "Sign out")

REACHABLE = """el => {
  const r = el.getBoundingClientRect()
  if (r.width === 0 || r.left < 0 || r.right > innerWidth || r.top < 0 || r.bottom > innerHeight) return false
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2)
  return hit === el || el.contains(hit)
}"""


@pytest.mark.parametrize("screen", [PHONE, TABLET], ids=["phone", "tablet"])
def test_on_a_phone_every_header_control_is_in_view_and_nothing_covers_the_title(quire, people, screen):
    ada, bea = people("Ada"), people("Bea", viewport=screen)
    doc_id = ada.new_doc("Quarterly plan for the northern region", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    page = bea.page
    expect(page.locator("#avatars li")).to_have_count(2)  # Ada is here too
    header = page.locator(".editor-bar")
    for name in CONTROLS:
        control = header.get_by_role("button", name=name, exact=True)
        if name == "Share":  # only the owner shares
            expect(control).to_be_hidden()
            continue
        assert control.evaluate(REACHABLE), f"{name!r} is on screen and nothing covers it"
    assert header.locator(".mode-select").evaluate(REACHABLE), "the mode is on screen"
    for part in ("#doc-title", "#save-state"):
        assert page.locator(part).evaluate(REACHABLE), f"{part} is on screen and nothing covers it"
    expect(page.locator("#save-state")).to_have_text("Saved")
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "no sideways scrolling"

    # a tap on Export opens its menu, whole, on screen
    header.get_by_role("button", name="Export", exact=True).click()
    item = page.get_by_role("menuitem", name="Markdown (.md)")
    expect(item).to_be_visible()
    assert item.evaluate(REACHABLE), "the export menu is on screen"
    page.keyboard.press("Escape")

    # so does the bell's inbox (Bea was told Ada shared the document)
    page.get_by_role("button", name="Notifications").click()
    inbox = page.get_by_role("dialog", name="Notifications")
    expect(inbox).to_contain_text("shared")
    assert inbox.evaluate(REACHABLE), "the inbox is on screen"
    page.keyboard.press("Escape")

    # the toolbar stays right under the header while the text scrolls
    page.locator("#editor .ProseMirror").click()
    for n in range(40):
        page.keyboard.type(f"Line {n} of a long draft.")
        page.keyboard.press("Enter")
    page.mouse.wheel(0, 2000)
    page.wait_for_timeout(300)
    gap = page.evaluate("""() => document.querySelector('#toolbar').getBoundingClientRect().top
                         - document.querySelector('.editor-bar').getBoundingClientRect().bottom""")
    assert abs(gap) <= 2, f"the toolbar sits under the header (gap {gap:.0f} px)"
    assert page.get_by_role("button", name="Bold").evaluate(REACHABLE)


NOT_CUT = """e => {  // the element is as wide as its content asks: nothing of it is cut off
  const shown = e.getBoundingClientRect().width
  e.style.maxWidth = 'none'; e.style.width = 'max-content'
  const whole = e.getBoundingClientRect().width
  e.style.maxWidth = ''; e.style.width = ''
  return shown >= whole - 0.5
}"""


@pytest.mark.parametrize("width", [360, 320])
def test_on_a_small_phone_the_owners_controls_take_one_row_and_the_footer_one_line(quire, people, width):
    """At 360 px (the most common small Android width) and 320 px (the smallest phones) the
    owner's controls, Share included, used to wrap onto a third header row, and each footer item
    onto two lines."""
    ada, bea = people("Ada", viewport={"width": width, "height": 740}), people("Bea")
    doc_id = ada.new_doc("Harbour plan", editors=(bea,))
    bea.open(doc_id)
    ada.open(doc_id)
    page = ada.page
    expect(page.locator("#avatars li")).to_have_count(2)
    header = page.locator(".editor-bar")
    tops = [round(header.get_by_role("button", name=name, exact=True).bounding_box()["y"])
            for name in ("Share", *CONTROLS[1:-1])]
    mode = header.locator(".mode-select").bounding_box()
    title = page.locator("#doc-title").bounding_box()
    assert len(set(tops)) == 1, f"the controls are in one row: {tops}"
    assert tops[0] >= title["y"] + title["height"], "under the title"
    assert abs(mode["y"] + mode["height"] / 2 - (tops[0] + 16)) <= 2, "beside the mode"
    for name in ("Share", *CONTROLS[1:]):
        assert header.get_by_role("button", name=name, exact=True).evaluate(REACHABLE), name
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth"), "no sideways scrolling"
    # the mode's longest name is whole, and the row stays one
    header.locator(".mode-select").select_option(label="Suggesting")
    expect(page.locator("body")).to_have_attribute("data-mode", "suggesting")
    assert header.locator(".mode-select").evaluate(NOT_CUT), "Suggesting is not cut short"
    assert header.get_by_role("button", name="Export", exact=True).bounding_box()["y"] == \
        header.get_by_role("button", name="Share", exact=True).bounding_box()["y"]
    header.locator(".mode-select").select_option(label="Editing")

    # the footer on one line: the word count with a selection's count, Show authors, and the
    # shortcuts button (an icon here, still named) that opens the list on a tap
    page.locator("#editor .ProseMirror").click()
    page.keyboard.type("The harbour will be dredged in spring.")
    page.keyboard.press("Shift+Home")
    expect(page.locator("#word-count")).to_have_text("7 words of 7 words selected")
    footer = page.locator(".statusbar")
    line = footer.locator("#word-count").bounding_box()["height"]
    for part in (footer.locator("#word-count"), footer.get_by_role("button", name="Show authors"),
                 footer.get_by_role("button", name="Keyboard shortcuts")):
        assert part.bounding_box()["height"] <= max(line, 32), "one line"
        assert part.evaluate(REACHABLE)
    footer.get_by_role("button", name="Keyboard shortcuts").click()
    expect(page.locator("#shortcuts-panel")).to_be_visible()
