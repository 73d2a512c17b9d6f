"""Notifications as people meet them: mentioned in a comment while on the dashboard, the bell
counts it live in their own browser, the inbox quotes it, and opening it shows the thread;
a comment assigned to someone shows in their "Assigned to me" (comments panel and dashboard),
and they mark it done. Keyboard only where a person would use it."""

from __future__ import annotations

import re

from playwright.sync_api import expect

TEXT = "Our edge nodes serve 40% of traffic."


def select_by_keys(person, start: int, length: int) -> None:
    """Put the caret at the start of the text and select `length` characters from `start`,
    with the keyboard."""
    keys = person.page.keyboard
    keys.press("Control+Home")
    for _ in range(start):
        keys.press("ArrowRight")
    for _ in range(length):
        keys.press("Shift+ArrowRight")


def bell(person):
    return person.page.get_by_role("button", name=re.compile(r"^Notifications"))


def test_a_mention_in_a_comment_rings_the_bell_live_and_opens_the_thread(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Q3 white paper")
    ada.invite(doc_id, bea, "commenter")
    bea.page.goto("/")
    expect(bell(bea)).to_have_accessible_name("Notifications, 1 unread")  # the invitation

    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type(TEXT, delay=5)
    select_by_keys(ada, TEXT.index("40%"), len("40% of traffic"))
    ada.page.keyboard.press("Control+Alt+m")
    composer = ada.page.get_by_role("dialog", name="New comment")
    field = composer.get_by_role("textbox", name="Your comment")
    expect(field).to_be_focused()
    ada.page.keyboard.type("Cc @nobody", delay=20)  # someone who cannot see it: said so
    expect(composer.get_by_role("status")).to_have_text(
        "Nobody called “nobody” can see this document: they would not be told")
    ada.page.keyboard.press("Escape")  # closes the message, not the comment
    expect(composer).to_be_visible()
    field.fill("")
    ada.page.keyboard.type("Can @b", delay=20)
    suggestions = composer.get_by_role("listbox", name="People to mention")
    expect(suggestions.get_by_role("option")).to_have_count(1)
    expect(suggestions.get_by_role("option").first).to_contain_text("Bea")
    ada.page.keyboard.press("Enter")  # picks Bea: "@<her username> "
    ada.page.keyboard.type("check this number?", delay=10)
    expect(field).to_have_value(f"Can @{bea.username} check this number?")
    ada.page.keyboard.press("Control+Enter")
    expect(composer).to_be_hidden()
    expect(ada.page.locator(".message-body .mention")).to_have_text(f"@{bea.username}")

    # Bea, on her dashboard, sees the count go up without reloading
    expect(bell(bea)).to_have_accessible_name("Notifications, 2 unread", timeout=15_000)
    bell(bea).focus()
    bea.page.keyboard.press("Enter")
    inbox = bea.page.get_by_role("dialog", name="Notifications")
    expect(inbox).to_be_visible()
    first = inbox.locator(".inbox-item").first
    expect(first).to_contain_text("Ada mentioned you in “Q3 white paper”")
    expect(first).to_contain_text("“40% of traffic”")
    expect(first).to_contain_text("check this number?")
    expect(first).to_be_focused()
    bea.page.keyboard.press("Escape")
    expect(inbox).to_be_hidden()
    expect(bell(bea)).to_be_focused()

    bell(bea).click()
    inbox.locator(".inbox-item").first.click()
    bea.page.wait_for_url(re.compile(f"/d/{doc_id}"))
    bea.page.locator("#editor .ProseMirror").wait_for()
    card = bea.page.locator(".thread.is-active")
    expect(card).to_contain_text("check this number?")
    expect(bell(bea)).to_have_accessible_name("Notifications, 1 unread")
    bell(bea).click()
    bea.page.get_by_role("button", name="Mark all read").click()
    expect(bell(bea)).to_have_accessible_name("Notifications")


def test_the_inbox_works_from_the_keyboard_and_mark_all_read_clears_the_bell(quire, people):
    ada, bea = people("Ada"), people("Bea")
    ada.invite(ada.new_doc("Proposal"), bea, "commenter")
    bea.page.goto("/")
    expect(bell(bea)).to_have_accessible_name("Notifications, 1 unread")
    expect(bell(bea).locator(".bell-count")).to_have_text("1")
    inbox = bea.page.get_by_role("dialog", name="Notifications")
    items = inbox.locator(".inbox-item")

    bell(bea).focus()
    bea.page.keyboard.press("Enter")
    expect(items).to_have_count(1)
    expect(items.first).to_contain_text("Unread: Ada shared “Proposal” with you")
    expect(items.first).to_be_focused()
    # one arriving while the inbox is open joins the list; the focus stays on what it was on
    ada.invite(ada.new_doc("Budget"), bea, "editor")
    expect(bell(bea)).to_have_accessible_name("Notifications, 2 unread")
    expect(items).to_have_count(2)
    expect(items.nth(1)).to_be_focused()
    expect(items.nth(1)).to_contain_text("“Proposal”")

    bea.page.keyboard.press("Shift+Tab")
    bea.page.keyboard.press("Shift+Tab")
    expect(inbox.get_by_role("button", name="Mark all read")).to_be_focused()
    bea.page.keyboard.press("Enter")
    expect(bell(bea)).to_have_accessible_name("Notifications")
    expect(bell(bea).locator(".bell-count")).to_be_hidden()
    expect(inbox.get_by_role("button", name="Mark all read")).to_be_disabled()
    expect(items.first).to_be_focused()  # not lost with the button it was on
    expect(inbox.locator("[data-unread=true]")).to_have_count(0)
    bea.page.keyboard.press("Escape")
    expect(inbox).to_be_hidden()
    expect(bell(bea)).to_be_focused()

    # Tab past the last one closes it; a click outside closes it too
    bea.page.keyboard.press("Enter")
    expect(items.first).to_be_focused()
    bea.page.keyboard.press("Tab")
    bea.page.keyboard.press("Tab")
    expect(inbox).to_be_hidden()
    bell(bea).click()
    expect(inbox).to_be_visible()
    bea.page.get_by_role("heading", name="Documents", exact=True).click()
    expect(inbox).to_be_hidden()
    assert bea.api("GET", "/api/notifications").json()["unread"] == 0


def test_assigned_comments_are_listed_and_marked_done_by_the_assignee(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Budget")
    ada.invite(doc_id, bea, "commenter")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type(TEXT, delay=5)
    select_by_keys(ada, 0, len("Our edge nodes"))
    ada.page.keyboard.press("Control+Alt+m")
    composer = ada.page.get_by_role("dialog", name="New comment")
    composer.get_by_role("textbox", name="Your comment").type("Who owns the node list?", delay=5)
    ada.page.keyboard.press("Control+Enter")
    expect(composer).to_be_hidden()
    card = ada.page.locator(".thread").first
    card.get_by_role("button", name="Assign to someone").click()
    picker = card.get_by_role("combobox", name="Assign to")
    expect(picker).to_be_focused()
    picker.select_option(label=f"Bea (@{bea.username})")
    expect(card.locator(".thread-assigned")).to_have_text("Assigned to Bea")

    # Bea: the dashboard lists it; she opens it, and marks it done
    bea.page.goto("/")
    expect(bell(bea)).to_have_accessible_name("Notifications, 2 unread")  # invitation, assignment
    bea.page.get_by_role("button", name="Assigned to me").click()
    assigned = bea.page.locator("#assigned-list .hit")
    expect(assigned).to_have_count(1, timeout=15_000)  # the index follows the document
    expect(assigned.first).to_contain_text("Budget")
    expect(assigned.first).to_contain_text("“Our edge nodes”")
    assigned.first.click()
    bea.page.wait_for_url(re.compile(f"/d/{doc_id}"))
    bea.page.locator("#editor .ProseMirror").wait_for()
    panel_filter = bea.page.get_by_role("button", name=re.compile("^Assigned to me"))
    panel_filter.click()
    mine = bea.page.locator(".thread")
    expect(mine).to_have_count(1)
    expect(mine.first.locator(".thread-assigned")).to_have_text("Assigned to you")
    mine.first.get_by_role("button", name="Mark done").click()
    expect(bea.page.locator(".comments-empty")).to_have_text("No open comments are assigned to you.")
    threads = ada.api("GET", f"/api/docs/{doc_id}/comments").json()["items"]
    assert [(t["resolved"], t["resolved_by"]["username"], t["assignee"]["username"]) for t in threads] == [
        (True, bea.username, bea.username)]
