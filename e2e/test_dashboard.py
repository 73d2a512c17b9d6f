"""The dashboard: create, see who is in a document, rename, search, delete."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from e2e.helpers import comment_on, eventually


def test_create_rename_search_and_delete(quire, people):
    ada, bea = people("Ada"), people("Bea")
    page = ada.page
    page.goto(quire.url + "/")
    page.get_by_role("button", name="New document").first.click()
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    doc_id = page.url.rsplit("/", 1)[1]
    page.locator(".ProseMirror").wait_for()
    expect(page.locator("#doc-title")).to_have_value("Untitled document")
    page.locator("#doc-title").fill("Field notes on tides")
    page.locator("#doc-title").press("Enter")  # Enter moves into the text
    page.keyboard.type("High water at noon.")
    ada.expect_state("saved")
    eventually(lambda: ada.doc(doc_id)["title"] == "Field notes on tides", message="title mirrored")

    ada.invite(doc_id, bea, "editor")
    bea.open(doc_id)  # Bea stays in the document while Ada looks at the list
    page.goto(quire.url + "/")
    row = page.locator(f'.doc-row[data-id="{doc_id}"]')
    expect(row.locator(".doc-title")).to_have_text("Field notes on tides")
    expect(row.locator(".doc-online")).to_have_text("1 here now")
    expect(row.locator(".doc-time")).to_have_text(re.compile(r"^Edited "))

    # rename from the row menu; Bea's open editor follows
    row.get_by_role("button", name="More actions for Field notes on tides").click()
    page.get_by_role("menuitem", name="Rename").click()
    page.get_by_label("New title").fill("Tide tables")
    page.get_by_label("New title").press("Enter")
    expect(row.locator(".doc-title")).to_have_text("Tide tables")
    assert ada.doc(doc_id)["title"] == "Tide tables"
    expect(bea.page.locator("#doc-title")).to_have_value("Tide tables")

    # search by title
    search = page.get_by_role("searchbox", name="Search documents: titles, text and comments")
    search.fill("tide tab")
    expect(page.locator(".doc-row")).to_have_count(1)
    search.fill("no such title anywhere")
    expect(page.locator("#empty")).to_contain_text("No documents match")
    search.fill("")
    expect(row).to_be_visible()

    # delete asks first; cancel keeps it
    row.get_by_role("button", name="More actions for Tide tables").click()
    page.get_by_role("menuitem", name="Delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete “Tide tables”?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(row).to_be_visible()
    row.get_by_role("button", name="More actions for Tide tables").click()
    page.get_by_role("menuitem", name="Delete").click()
    dialog.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert ada.api("GET", f"/api/docs/{doc_id}", ok=False).status == 404
    # Bea is told plainly, and her editor stops taking input
    expect(bea.page.locator("#notice")).to_contain_text("was deleted")
    expect(bea.page.locator("#save-state")).to_have_attribute("data-kind", "closed")


def test_on_a_phone_the_title_and_the_shared_badge_show_whole(quire, people):
    """Issue 18: at 390 px a shared document's title was cut to "Edge .." and its badge hidden."""
    ada, bea = people("Ada"), people("Bea", viewport={"width": 390, "height": 844})
    title = "Edge caching for the northern region rollout"
    doc_id = ada.new_doc(title)
    ada.invite(doc_id, bea, "commenter")
    bea.page.goto("/")
    row = bea.page.locator(f'.doc-row[data-id="{doc_id}"]')
    name = row.locator(".doc-title")
    expect(name).to_have_text(title)
    assert name.evaluate("el => el.scrollWidth <= el.clientWidth + 1 && el.getBoundingClientRect().right <= innerWidth")
    expect(row.locator(".doc-shared")).to_be_visible()
    expect(row.locator(".doc-shared")).to_have_text("Shared with you · can comment")


def test_sort_and_shared_with_me(quire, people):
    """Issue 18, item 12: sort by last edited, title or date created, and show only the documents
    shared with you; the choice is kept when the page is opened again."""
    ada, bea = people("Ada"), people("Bea")
    for title in ("beta notes", "Alpha plan"):
        ada.new_doc(title)
    bea.new_doc("Bea's draft", editors=(ada,))
    page = ada.page
    page.goto("/")
    rows = page.locator("#doc-list .doc-title")
    expect(rows).to_have_text(["Bea's draft", "Alpha plan", "beta notes"])  # last edited first
    page.get_by_label("Sort by").select_option(label="Title")
    expect(rows).to_have_text(["Alpha plan", "Bea's draft", "beta notes"])
    page.get_by_label("Show").select_option(label="Shared with me")
    expect(rows).to_have_text(["Bea's draft"])
    page.reload()
    expect(page.get_by_label("Show")).to_have_value("shared")
    expect(rows).to_have_text(["Bea's draft"])
    page.get_by_label("Show").select_option(label="Mine")
    expect(rows).to_have_text(["Alpha plan", "beta notes"])


def test_owners_are_named_and_a_reader_makes_a_copy_without_the_comments(quire, people):
    """Issue 18, item 12: each row says whose the document is ("You" for your own); "Make a
    copy" in a row's menu opens a copy of your own with the text as it stands, without the
    comments, and Ada's document is left as it was."""
    ada, bea = people("Ada Lovelace"), people("Bea")
    doc_id = ada.new_doc("Tide tables")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("High water at noon.")
    ada.page.keyboard.press("Enter")
    ada.page.keyboard.press("Control+b")
    ada.page.keyboard.type("Low water at six.")
    comment_on(ada, "noon", "Check the almanac")
    expect(ada.editor.locator(".comment-hl")).to_have_text("noon")
    ada.expect_state("saved")
    ada.invite(doc_id, bea, "viewer")
    bea.new_doc("Bea's list")

    page = bea.page
    page.goto("/")
    row = page.locator(f'.doc-row[data-id="{doc_id}"]')
    expect(row.locator(".doc-owner")).to_have_text("Owner: Ada Lovelace")
    own = page.locator(".doc-row", has_text="Bea's list")
    expect(own.locator(".doc-owner")).to_have_text("Owner: You")

    # a viewer's menu offers a copy (and nothing she may not do)
    row.get_by_role("button", name="More actions for Tide tables").click()
    expect(row.get_by_role("menuitem")).to_have_text(["Make a copy…"])
    page.get_by_role("menuitem", name="Make a copy…").click()
    dialog = page.get_by_role("dialog", name="Make a copy")
    expect(dialog.get_by_label("Title")).to_have_value("Copy of Tide tables")
    expect(dialog.get_by_label("Keep the comments")).not_to_be_checked()
    dialog.get_by_role("button", name="Make a copy").click()
    page.wait_for_url(re.compile(r"/d/[\w-]+$"))
    copy_id = page.url.rsplit("/", 1)[1]
    assert copy_id != doc_id
    bea.page.locator("body[data-role]").wait_for(state="attached")
    expect(page.locator("#doc-title")).to_have_value("Copy of Tide tables")
    bea.expect_text("High water at noon.\nLow water at six.")
    expect(bea.editor.locator("strong")).to_have_text("Low water at six.")
    expect(bea.editor.locator(".comment-hl")).to_have_count(0)
    expect(page.locator("body")).to_have_attribute("data-role", "owner")  # it is hers
    assert bea.api("GET", f"/api/docs/{copy_id}/comments").json()["items"] == []
    # she writes in her copy; Ada's document does not change, its comment is still there
    bea.editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.type(" Bea's note.")
    bea.expect_state("saved")
    assert ada.content(doc_id)["text"].strip() == "High water at noon.\nLow water at six."
    assert len(ada.api("GET", f"/api/docs/{doc_id}/comments").json()["items"]) == 1
    assert ada.api("GET", f"/api/docs/{copy_id}", ok=False).status == 404  # not shared with Ada

    page.goto("/")
    copy_row = page.locator(f'.doc-row[data-id="{copy_id}"]')
    expect(copy_row.locator(".doc-title")).to_have_text("Copy of Tide tables")
    expect(copy_row.locator(".doc-owner")).to_have_text("Owner: You")


def test_make_a_copy_from_the_editor_keeping_the_comments(quire, people):
    """The editor's header has "Make a copy" too (for anyone with an account; a share link
    alone has no one to own the copy): here a commenter keeps the comments and names the copy."""
    ada, cora = people("Ada"), people("Cora")
    doc_id = ada.new_doc("Budget")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Travel costs rise in May.")
    comment_on(ada, "rise", "By how much?")
    ada.expect_state("saved")
    ada.invite(doc_id, cora, "commenter")
    link = ada.share_link(doc_id, "viewer")

    cora.open(doc_id)
    page = cora.page
    page.get_by_role("button", name="Make a copy").click()
    dialog = page.get_by_role("dialog", name="Make a copy")
    dialog.get_by_label("Title").fill("   ")
    dialog.get_by_role("button", name="Make a copy").click()
    expect(dialog.get_by_role("alert")).to_have_text("Give the copy a title.")
    dialog.get_by_label("Title").fill("Budget, my notes")
    dialog.get_by_label("Keep the comments").check()
    dialog.get_by_role("button", name="Make a copy").click()
    page.wait_for_url(lambda url: "/d/" in url and doc_id not in url)
    copy_id = page.url.rsplit("/", 1)[1]
    page.locator("#editor .ProseMirror").wait_for()
    expect(page.locator("#doc-title")).to_have_value("Budget, my notes")
    cora.expect_text("Travel costs rise in May.")
    expect(cora.editor.locator(".comment-hl")).to_have_text("rise")
    expect(page.locator("#comments .thread")).to_have_count(1)
    (thread,) = cora.api("GET", f"/api/docs/{copy_id}/comments").json()["items"]
    assert (thread["anchor_text"], thread["messages"][0]["body"]) == ("rise", "By how much?")
    expect(page.locator("body")).to_have_attribute("data-role", "owner")
    expect(page.get_by_role("button", name="Share")).to_be_visible()  # hers to share

    visitor = people("Vic", account=False)
    visitor.open_link(link["url"], state="readonly")
    expect(visitor.page.get_by_role("button", name="Make a copy")).to_be_hidden()
