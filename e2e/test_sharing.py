"""Sharing and roles in the browser: the owner's Share panel, a viewer who watches but cannot
change anything, revoking access live, a commenter who comments but cannot type."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect

from e2e.helpers import select_text

TEXT = "The quick brown fox jumps over the lazy dog."


def share_panel(person):
    """Open the Share panel from the header; it is a labelled (non-modal) dialog."""
    person.page.get_by_role("button", name="Share").click()
    panel = person.page.get_by_role("dialog", name="Share")
    expect(panel).to_be_visible()
    return panel


def test_viewer_watches_live_cannot_change_anything_and_is_dropped_when_revoked(quire, people):
    ada = people("Ada")
    ada.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=quire.url)
    doc_id = ada.new_doc("Watched")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type(TEXT)
    ada.expect_state("saved")

    # Ada makes a view-only link in the Share panel and copies it.
    panel = share_panel(ada)
    expect(panel.get_by_label("Username")).to_be_focused()
    links = panel.get_by_role("form", name="Share a link")
    links.get_by_label("Name (optional)").fill("Reviewers")
    links.get_by_label("Role").select_option("viewer")
    links.get_by_role("button", name="Create link").click()
    new_link = links.get_by_label("New link")
    expect(new_link).to_have_value(re.compile(rf"/d/{doc_id}\?token=qs_"))
    expect(new_link).to_be_focused()
    url = new_link.input_value()
    links.get_by_role("button", name="Copy link").click()
    expect(panel.get_by_role("status")).to_have_text("Link copied.")
    assert ada.page.evaluate("navigator.clipboard.readText()") == url
    rows = panel.locator(".share-item")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Link: Reviewers")
    expect(rows.first).to_contain_text("Can view · No end date")

    # Vic has no account, only the link. The token leaves the address bar at once.
    vic = people("Vic", account=False)
    vic.open_link(url, state="readonly")
    assert "token" not in vic.page.url
    page = vic.page
    expect(page.locator("#save-state")).to_have_text("Read-only")
    expect(page.locator("#role-banner")).to_have_text("You can read this document; you cannot edit it.")
    expect(page.get_by_role("button", name="Share")).to_be_hidden()
    expect(page.locator("#toolbar button[aria-disabled='false']")).to_have_count(0)
    expect(page.locator("#doc-title")).to_have_attribute("readonly", "")
    expect(ada.page.locator('#avatars .avatar[data-name="Vic"]')).to_have_count(1)  # present all the same
    vic.expect_text(TEXT)

    # Ada keeps writing (the panel stays open beside the text): Vic sees it live.
    ada.editor.click()
    ada.page.keyboard.press("Control+End")
    ada.page.keyboard.type(" Ada adds a line.")
    expected = TEXT + " Ada adds a line."
    vic.expect_text(expected)

    # Vic's typing, shortcuts and title edits do nothing, here or on the server.
    vic.editor.click()
    page.keyboard.type("vandalism")
    page.keyboard.press("Control+b")
    page.keyboard.press("Backspace")
    page.keyboard.press("Enter")
    page.locator("#doc-title").click()
    page.keyboard.type("New title")
    assert vic.text() == expected
    expect(page.locator("#doc-title")).to_have_value("Watched")
    ada.page.keyboard.type(" Done.")  # a round trip after Vic's attempts
    expected += " Done."
    vic.expect_text(expected)
    ada.expect_state("saved")
    assert ada.content(doc_id)["text"].strip() == expected
    assert ada.doc(doc_id)["title"] == "Watched"
    assert page.evaluate("window.quire.session.denied") is None  # it never even tried

    # Reading works everywhere, with the token on every call: history, and the Markdown export.
    page.get_by_role("button", name="History").click()
    history = page.get_by_role("complementary", name="Version history")
    expect(history).to_be_visible()
    expect(history.get_by_role("button", name="Name current version")).to_be_hidden()
    with page.expect_download() as download:
        page.get_by_role("button", name="Export", exact=True).click()
        page.get_by_role("menuitem", name="Markdown (.md)").click()
    assert download.value.failure() is None
    assert "Ada adds a line." in Path(download.value.path()).read_text()

    # Ada revokes the link (after confirming): Vic's page says so at once and stops.
    panel.get_by_role("button", name="Revoke the link “Reviewers” (can view)").click()
    confirm = ada.page.get_by_role("dialog", name="Revoke this link?")
    expect(confirm).to_be_visible()
    confirm.get_by_role("button", name="Revoke link").click()
    expect(rows).to_have_count(0)
    expect(panel.locator(".share-empty")).to_be_visible()
    notice = page.locator("#notice")
    expect(notice).to_contain_text("removed by the owner", timeout=3000)
    expect(notice).to_contain_text("You can still read")
    assert page.evaluate("window.quire.session.closeFrame.code") == 4403
    expect(page.locator("#save-state")).to_have_text("No access")
    vic.expect_text(expected)  # what was on the page stays readable

    # The link no longer opens anything: this tab forgot it, so a reload asks to sign in.
    page.reload()
    page.wait_for_url(re.compile(r"/login\?next="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_commenter_comments_and_typing_only_suggests(quire, people):
    ada, cora = people("Ada"), people("Cora")
    doc_id = ada.new_doc("Review")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type(TEXT)
    ada.expect_state("saved")

    # Ada invites Cora by username as a commenter, from the Share panel. (A username nobody has
    # is answered 404, which Chromium reports on the console: allowed here.)
    ada.allowed.append(re.compile(r"Failed to load resource: .*status of 404"))
    panel = share_panel(ada)
    invite = panel.get_by_role("form", name="Invite someone with an account")
    invite.get_by_label("Username").fill("nobody-here")
    invite.get_by_role("button", name="Invite").click()
    expect(invite.get_by_role("alert")).to_contain_text("No account is called")
    invite.get_by_label("Username").fill(cora.username)
    invite.get_by_label("Role").select_option("commenter")
    invite.get_by_label("Access ends").select_option("7")
    invite.get_by_role("button", name="Invite").click()
    row = panel.locator(".share-item")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Cora")
    expect(row).to_contain_text(f"@{cora.username}")
    expect(row).to_contain_text(re.compile(r"Can comment · Until "))
    ada.page.keyboard.press("Escape")
    expect(panel).to_be_hidden()
    expect(ada.page.get_by_role("button", name="Share")).to_be_focused()

    cora.open(doc_id)
    page = cora.page
    expect(page.locator("#role-banner")).to_contain_text("You can comment on this document, and suggest")
    expect(page.get_by_role("button", name="Share")).to_be_hidden()
    expect(page.get_by_role("combobox", name="Mode")).to_have_value("suggesting")
    comment_button = page.get_by_role("toolbar").get_by_role("button", name=re.compile(r"^Comment"))
    expect(comment_button).to_have_attribute("aria-disabled", "false")

    # Typing suggests (Enter, a new paragraph, is not a suggestion: nothing happens); the text
    # as it stands stays Ada's. Cora takes her suggestion back with Backspace.
    cora.editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Cora was here")
    page.keyboard.press("Enter")
    expect(ada.editor.locator("ins.suggest-ins")).to_have_text(" Cora was here")
    assert ada.api("GET", f"/api/docs/{doc_id}/export.md").text().strip() == TEXT
    for _ in range(len(" Cora was here")):
        page.keyboard.press("Backspace")
    expect(ada.editor.locator("ins.suggest-ins")).to_have_count(0)
    cora.expect_text(TEXT)

    # Commenting works: the shortcut on a selection, then the toolbar button.
    select_text(cora, "brown fox")
    page.keyboard.press("Control+Alt+m")
    composer = page.get_by_role("dialog", name="New comment")
    expect(composer).to_be_visible()
    composer.get_by_role("textbox", name="Your comment").fill("Which fox?")
    page.keyboard.press("Control+Enter")
    expect(composer).to_be_hidden()
    select_text(cora, "lazy dog")
    comment_button.click()
    composer.get_by_role("textbox", name="Your comment").fill("Is the dog lazy?")
    composer.get_by_role("button", name="Comment").click()
    expect(composer).to_be_hidden()

    ada_threads = ada.page.locator("#comments .thread")
    expect(ada_threads).to_have_count(2)
    expect(ada_threads.locator(".message-author").first).to_have_text("Cora")
    ada.page.wait_for_function("""() => [...document.querySelectorAll('.ProseMirror .comment-hl')]
        .map((el) => el.textContent).join('|') === 'brown fox|lazy dog'""")
    cora.expect_state("saved")
    assert page.evaluate("window.quire.session.denied") is None  # the server took every change
    threads = ada.api("GET", f"/api/docs/{doc_id}/comments").json()["items"]
    assert sorted(t["anchor_text"] for t in threads) == ["brown fox", "lazy dog"]
    assert ada.content(doc_id)["text"].strip() == TEXT  # the text itself is untouched

    # Cora replies in the thread; Ada sees it.
    card = page.locator("#comments .thread").first
    card.click()
    card.get_by_role("textbox", name="Reply").fill("The brown one.")
    page.keyboard.press("Control+Enter")
    expect(ada_threads.first.locator(".message-body").nth(1)).to_have_text("The brown one.")


def test_editor_lowered_to_viewer_while_writing_starts_again_from_the_server(quire, people):
    """The owner makes an editor a viewer while their page is open. Their next keystroke is
    refused by the server; the page stops, drops its local copy, reloads read-only and says why."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Lowered", editors=(bea,))
    ada.open(doc_id)
    bea.open(doc_id)
    bea.editor.click()
    bea.page.keyboard.type("Bea writes.")
    ada.expect_text("Bea writes.")
    bea.expect_state("saved")

    ada.invite(doc_id, bea, "viewer")  # a new role replaces the invitation; Bea's page is not told
    bea.page.keyboard.type("!")
    banner = bea.page.locator("#role-banner")
    expect(banner).to_contain_text("The owner changed your access while you were writing")
    expect(banner).to_contain_text("You can read this document; you cannot edit it.")
    bea.expect_state("readonly")
    bea.expect_text("Bea writes.")
    ada.editor.click()  # Ada's own page never noticed a thing
    ada.page.keyboard.press("Control+End")
    ada.page.keyboard.type(" Ada goes on.")
    bea.expect_text("Bea writes. Ada goes on.")
    ada.expect_state("saved")
    assert ada.content(doc_id)["text"].strip() == "Bea writes. Ada goes on."


def test_a_removed_commenter_is_told_in_the_words_of_their_role(quire, people):
    """Issue 18: a commenter whose invitation is removed read "your access to edit was removed"."""
    ada, cam = people("Ada"), people("Cam")
    doc_id = ada.new_doc("Reviewed")
    share = ada.invite(doc_id, cam, "commenter")
    cam.open(doc_id)  # a commenter's page is "saved" (their comments are)
    ada.api("DELETE", f"/api/docs/{doc_id}/shares/{share['id']}")
    notice = cam.page.locator("#notice")
    expect(notice).to_contain_text("your access to comment was removed by the owner",
                                   timeout=5000)
    expect(notice).not_to_contain_text("to edit")


def test_a_readers_toolbar_offers_no_paragraph_style(quire, people):
    """Issue 18: read-only toolbars showed "Heading 1" (the style under a caret they cannot use)."""
    ada, vic = people("Ada"), people("Vic")
    doc_id = ada.new_doc("Styled")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("# Big title", delay=5)
    ada.expect_state("saved")
    ada.invite(doc_id, vic, "viewer")
    vic.open(doc_id, state="readonly")
    vic.expect_contains("Big title")
    vic.editor.get_by_text("Big title").click()
    picker = vic.page.get_by_label("Paragraph style")
    expect(picker).to_be_disabled()
    assert picker.evaluate("el => el.selectedOptions[0]?.textContent") == "—"


def test_the_owner_lets_editors_share_and_an_editor_invites_someone(quire, people):
    """Issue 18, item 12: "Editors can share" (the owner's, in the Share panel). Off, an editor
    has no Share button; on, the editor invites someone from the panel (at most as an editor, and
    without the setting); off again, the server refuses the editor's next invitation."""
    ada, bea, cid, dan = people("Ada"), people("Bea"), people("Cid"), people("Dan")
    doc_id = ada.new_doc("Team notes", editors=(bea,))
    ada.invite(doc_id, cid, "commenter")
    bea.open(doc_id)
    expect(bea.page.get_by_role("button", name="Share")).to_be_hidden()

    ada.open(doc_id)
    panel = share_panel(ada)
    setting = panel.get_by_role("checkbox", name="Editors can share")
    expect(setting).not_to_be_checked()
    setting.check()
    expect(panel.get_by_role("status")).to_have_text("Editors can share now.")
    assert ada.doc(doc_id)["editors_can_share"] is True

    # Bea (another browser) sees Share once her page asks again, and invites Dan as an editor
    bea.page.reload()
    bea.page.locator("body[data-role]").wait_for(state="attached")
    bea_panel = share_panel(bea)
    expect(bea_panel.get_by_role("checkbox", name="Editors can share")).to_be_hidden()
    roles = bea_panel.get_by_role("form", name="Invite someone with an account").get_by_label("Role")
    expect(roles.locator("option")).to_have_text(["Can view", "Can comment", "Can edit"])
    invite = bea_panel.get_by_role("form", name="Invite someone with an account")
    invite.get_by_label("Username").fill(dan.username)
    invite.get_by_label("Role").select_option("editor")
    invite.get_by_role("button", name="Invite").click()
    expect(bea_panel.locator(".share-item", has_text="Dan")).to_contain_text("Can edit")
    assert dan.doc(doc_id)["role"] == "editor"
    dan.page.goto("/")
    expect(dan.page.locator(f'.doc-row[data-id="{doc_id}"] .doc-owner')).to_have_text("Owner: Ada")

    # a commenter never shares, whatever the setting
    cid.open(doc_id)
    expect(cid.page.get_by_role("button", name="Share")).to_be_hidden()
    assert cid.api("GET", f"/api/docs/{doc_id}/shares", ok=False).status == 403

    # Ada takes it back: Bea's open panel is refused by the server
    panel.get_by_role("checkbox", name="Editors can share").uncheck()
    expect(panel.get_by_role("status")).to_have_text("Only you can share now.")
    bea.allowed.append(re.compile(r"Failed to load resource: .*status of 403"))
    invite.get_by_label("Username").fill(cid.username)
    invite.get_by_role("button", name="Invite").click()
    expect(invite.get_by_role("alert")).to_contain_text("Only the owner can share this document")
    assert cid.doc(doc_id)["role"] == "commenter"
