"""Suggesting mode as people use it (issue 15): a commenter types, deletes and replaces in
Suggesting mode and the owner sees each suggestion live, with a card; the owner accepts one,
rejects another, accepts the rest, undoes an accept; everything reaches the commenter; a
viewer sees the suggestions and no buttons. Real key presses in separate browser contexts."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import eventually


def suggestions(person, doc_id: str) -> list[dict]:
    return person.api("GET", f"/api/docs/{doc_id}/suggestions").json()


def caret_after(person, needle: str) -> None:
    """Click at the end of the word `needle` in the text, as a person would."""
    box = person.page.evaluate(
        """needle => {
            const walker = document.createTreeWalker(document.querySelector('#editor .ProseMirror'), NodeFilter.SHOW_TEXT)
            while (walker.nextNode()) {
              const i = walker.currentNode.data.indexOf(needle)
              if (i >= 0) {
                const range = document.createRange()
                range.setStart(walker.currentNode, i + needle.length - 1)
                range.setEnd(walker.currentNode, i + needle.length)
                const r = range.getBoundingClientRect()
                return { x: r.right - 1, y: r.top + r.height / 2 }
              }
            }
            return null
        }""", needle)
    assert box, needle
    person.page.mouse.click(box["x"], box["y"])


def test_a_commenter_suggests_and_the_owner_decides(quire, people):
    ada, cam = people("Ada"), people("Cam")
    doc_id = ada.new_doc("Edge paper")
    ada.invite(doc_id, cam, "commenter")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Our server is fast and cheap today.", delay=10)
    ada.expect_state("saved")

    cam.open(doc_id)
    # a commenter's editor opens in Suggesting; Editing is not offered
    mode = cam.page.get_by_role("combobox", name="Mode")
    expect(mode).to_have_value("suggesting")
    expect(mode.locator("option")).to_have_text(["Suggesting", "Viewing"])

    # 1. typing: " edge" after "Our"
    caret_after(cam, "Our")
    cam.page.keyboard.type(" edge", delay=30)
    # 2. deleting: Backspace over "today" (5 letters) after clicking at its end
    caret_after(cam, "today")
    for _ in range(5):
        cam.page.keyboard.press("Backspace")
    # 3. replacing: select "fast" with Shift+arrows and type "quick"
    caret_after(cam, "fast")
    for _ in range(4):
        cam.page.keyboard.press("Shift+ArrowLeft")
    cam.page.keyboard.type("quick", delay=30)

    # the owner sees all three live, underlined and struck through, and the cards
    expect(ada.editor.locator("ins.suggest-ins")).to_have_count(2)
    expect(ada.editor.locator("del.suggest-del")).to_have_count(2)
    found = eventually(lambda: (lambda got: got if len(got) == 3 else None)(suggestions(ada, doc_id)))
    assert [(s["kind"], s["inserted"], s["deleted"], s["author_name"]) for s in found] == [
        ("insert", " edge", "", "Cam"), ("replace", "quick", "fast", "Cam"),
        ("delete", "", "today", "Cam")]
    # the text as it stands has not changed
    assert ada.api("GET", f"/api/docs/{doc_id}/export.md").text() == \
        "Our server is fast and cheap today.\n"

    # a card per suggestion in the comment margin, above the threads, in the order of the text
    margin = ada.page.locator("#comments .margin-suggestions")
    expect(margin).to_be_visible()
    expect(margin.get_by_role("heading")).to_have_text("Suggestions (3)")
    expect(margin.locator(".suggestion-card .suggestion-what")).to_have_text([
        "Cam: Add “edge”", "Cam: Replace “fast” with “quick”", "Cam: Delete “today”"])

    ada.page.get_by_role("button", name="Suggestions").click()
    cards = ada.page.locator("#suggestions-panel .suggestion-card")
    expect(cards).to_have_count(3)
    expect(cards.nth(1)).to_contain_text("Cam: Replace “fast” with “quick”")
    # a reply on a suggestion is a comment thread on its text, which the commenter sees
    ada.page.get_by_role("button", name="Reply: Add “edge”").click()
    composer = ada.page.get_by_role("dialog", name="New comment")
    expect(composer).to_be_visible()
    composer.get_by_role("textbox", name="Your comment").fill("Why edge?")
    ada.page.keyboard.press("Control+Enter")
    expect(composer).to_be_hidden()
    threads = eventually(lambda: ada.api("GET", f"/api/docs/{doc_id}/comments").json()["items"] or None)
    assert threads[0]["anchor_text"].strip() == "edge"
    expect(cam.page.locator("#comments .thread .message-body")).to_have_text("Why edge?")
    ada.page.get_by_role("button", name="Suggestions").click()
    # accept the replacement, reject the deletion
    ada.page.get_by_role("button", name="Accept: Replace “fast” with “quick”").click()
    ada.page.get_by_role("button", name="Reject: Delete “today”").click()
    cam.expect_text("Our edge server is quick and cheap today.")
    expect(cards).to_have_count(1)
    # undo the last decision (the reject), then accept all
    ada.editor.click()
    ada.page.keyboard.press("Control+z")
    expect(cards).to_have_count(2)
    ada.page.get_by_role("button", name="Accept all").click()
    expect(cards).to_have_count(0)
    cam.expect_text("Our edge server is quick and cheap .")
    ada.expect_text("Our edge server is quick and cheap .")
    assert ada.api("GET", f"/api/docs/{doc_id}/export.md").text() == \
        "Our edge server is quick and cheap .\n"


def test_a_viewer_sees_suggestions_and_no_buttons_and_a_commenters_edit_is_never_direct(quire, people):
    ada, cam, vic = people("Ada"), people("Cam"), people(None, account=False)
    doc_id = ada.new_doc("Read only")
    ada.invite(doc_id, cam, "commenter")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Plain words.", delay=10)
    cam.open(doc_id)
    caret_after(cam, "Plain")
    cam.page.keyboard.type(" new", delay=30)
    expect(ada.editor.locator("ins.suggest-ins")).to_have_text(" new")

    link = ada.share_link(doc_id, "viewer")
    vic.open_link(link["url"], state="readonly")
    expect(vic.editor.locator("ins.suggest-ins")).to_have_text(" new")
    expect(vic.page.get_by_role("combobox", name="Mode")).to_have_value("viewing")
    expect(vic.page.get_by_role("combobox", name="Mode").locator("option")).to_have_text(["Viewing"])
    expect(vic.page.locator("#comments .suggestion-card")).to_have_count(1)
    vic.page.get_by_role("button", name="Suggestions").click()
    expect(vic.page.locator("#suggestions-panel .suggestion-card")).to_have_count(1)
    expect(vic.page.locator(".suggestion-card button", has_text="Accept")).to_have_count(0)
    expect(vic.page.locator(".suggestion-card button", has_text="Reject")).to_have_count(0)

    # a named version holds the suggestion, and its preview shows it
    ada.page.get_by_role("button", name="History", exact=True).click()
    history = ada.page.get_by_role("complementary", name="Version history")
    history.get_by_role("button", name="Name current version").click()
    history.get_by_role("textbox", name="Version name").fill("With Cam's idea")
    ada.page.keyboard.press("Enter")
    named = history.locator(".version-item.kind-named")
    expect(named).to_have_count(1)
    named.click()
    preview = ada.page.get_by_role("region", name="Version preview")
    expect(preview.locator(".version-prose ins.suggest-ins")).to_have_text(" new")

    # the commenter switches to Viewing: typing changes nothing
    cam.page.get_by_role("combobox", name="Mode").select_option("viewing")
    caret_after(cam, "words")
    cam.page.keyboard.type("zzz", delay=20)
    assert "zzz" not in cam.text()
    assert ada.api("GET", f"/api/docs/{doc_id}/export.md", ok=True).text() == "Plain words.\n"


def test_an_editor_suggests_by_keyboard_and_undoes_it(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Keyboard", editors=(bea,))
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("One two.", delay=10)
    bea.open(doc_id)
    bea.editor.click()  # Bea is here too
    ada.page.keyboard.press("Control+Alt+Shift+S")
    expect(ada.page.get_by_role("combobox", name="Mode")).to_have_value("suggesting")
    ada.page.keyboard.press("End")
    ada.page.keyboard.type(" Three.", delay=20)
    expect(bea.editor.locator("ins.suggest-ins")).to_have_text(" Three.")
    assert ada.api("GET", f"/api/docs/{doc_id}/export.md").text() == "One two.\n"
    ada.page.keyboard.press("Control+z")
    expect(bea.editor.locator("ins.suggest-ins")).to_have_count(0)
    bea.expect_text("One two.")
    ada.page.keyboard.press("Control+Alt+Shift+S")
    expect(ada.page.get_by_role("combobox", name="Mode")).to_have_value("editing")
    ada.page.keyboard.type(" Four.", delay=20)
    bea.expect_text("One two. Four.")
    expect(bea.editor.locator("ins.suggest-ins")).to_have_count(0)
