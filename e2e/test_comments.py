"""Inline comments between two people: threads appear live, replies, edits, resolve; anchors follow
the text; long bodies are refused; untrusted text stays text. The server's REST view must agree."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from playwright.sync_api import expect

from e2e.helpers import comment_on, eventually, select_text

TEXT = "The quick brown fox jumps over the lazy dog. A second sentence follows it."

HIGHLIGHTED = """() => [...document.querySelectorAll('.ProseMirror .comment-hl')]
  .map((el) => el.textContent).join('')"""


def write(person, text: str = TEXT) -> None:
    person.editor.click()
    person.page.keyboard.type(text)
    person.expect_state("saved")


def show_comments(person) -> None:
    """Open the comment margin from the header, unless it is open already."""
    if not person.page.locator("#comments").is_visible():
        person.page.get_by_role("button", name=re.compile("^Comments")).click()
    expect(person.page.locator("#comments")).to_be_visible()


def threads(person, doc_id: str) -> list[dict]:
    """The server's view of the threads, read with `person`'s access."""
    return person.api("GET", f"/api/docs/{doc_id}/comments").json()["items"]


def test_comment_reply_edit_resolve_live(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Comments", editors=(bea,))
    ada.open(doc_id)
    write(ada)
    bea.open(doc_id)
    bea.expect_text(TEXT)

    comment_on(ada, "quick brown fox jumps", "Is the fox really quick?")
    expect(ada.page.get_by_role("button", name="Comment (1 open)")).to_be_visible()

    # Bea sees the highlight and the thread, live, and opens it from the highlight.
    bea.page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'quick brown fox jumps'")
    card = bea.page.locator("#comments .thread")
    expect(card).to_have_count(1)
    expect(card.locator(".message-body")).to_have_text("Is the fox really quick?")
    expect(card.locator(".message-author")).to_have_text("Ada")
    expect(card.locator(".message-time")).to_have_text("just now")
    expect(bea.page.locator("#comments-button .count-badge")).to_have_text("1")
    bea.page.locator(".ProseMirror .comment-hl").first.click()
    expect(card).to_have_class(re.compile(r"\bis-active\b"))
    expect(bea.page.locator(".ProseMirror .comment-hl.is-active")).to_have_count(1)
    card.get_by_role("textbox", name="Reply").fill("Quick enough.\nSecond line.")
    bea.page.keyboard.press("Control+Enter")

    ada_card = ada.page.locator("#comments .thread")
    expect(ada_card.locator(".message")).to_have_count(2)
    expect(ada_card.locator(".message-body").nth(1)).to_have_text("Quick enough.\nSecond line.")
    expect(ada_card.locator(".message-author").nth(1)).to_have_text("Bea")

    # Only your own messages can be edited: Ada edits hers, Bea sees the change.
    ada_card.click()
    expect(ada_card.locator(".message").nth(1).get_by_role("button", name="Edit")).to_be_hidden()
    ada_card.locator(".message").first.get_by_role("button", name="Edit").click()
    ada_card.get_by_role("textbox", name="Edit your comment").fill("Is the fox really that quick?")
    ada.page.keyboard.press("Control+Enter")
    expect(card.locator(".message-body").first).to_have_text("Is the fox really that quick?")
    expect(card.locator(".message-edited").first).to_be_visible()

    # Ada resolves: the highlight and the thread leave Bea's margin; "Resolved" lists it.
    ada_card.get_by_role("button", name="Resolve thread").click()
    expect(bea.page.locator(".ProseMirror .comment-hl")).to_have_count(0)
    expect(card).to_have_count(0)
    expect(bea.page.locator("#comments-button .count-badge")).to_be_hidden()
    bea.page.locator("#comments").get_by_role("button", name=re.compile("^Resolved")).click()
    expect(card).to_have_count(1)
    expect(card.locator(".thread-resolved")).to_have_text(re.compile(r"^Resolved by Ada"))
    expect(card.locator(".thread-quote")).to_have_text("quick brown fox jumps")

    # The server holds the same thread.
    def resolved_on_server():
        items = threads(ada, doc_id)
        return items if items and items[0]["state"] == "resolved" else None

    (thread,) = eventually(resolved_on_server, message="thread resolved on the server")
    assert thread["anchor_text"] == "quick brown fox jumps"
    assert thread["resolved_by"]["name"] == "Ada"
    assert [(m["author"]["name"], m["body"]) for m in thread["messages"]] == [
        ("Ada", "Is the fox really that quick?"), ("Bea", "Quick enough.\nSecond line.")]
    assert thread["messages"][0]["edited_at"] is not None

    # Reopening brings the highlight back for both.
    card.get_by_role("button", name="Reopen").click()
    ada.page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'quick brown fox jumps'")

    # Deleting a message that has replies leaves a tombstone in its place.
    ada_card.click()
    ada_card.locator(".message").first.get_by_role("button", name="Delete").click()
    ada_card.get_by_role("group", name="Delete this comment?").get_by_role("button", name="Delete").click()
    expect(ada_card.locator(".message-body").first).to_have_text("Comment deleted")
    bea.page.locator("#comments").get_by_role("button", name=re.compile("^Open")).click()
    expect(card.locator(".message.is-deleted")).to_have_count(1)
    eventually(lambda: threads(ada, doc_id)[0]["messages"][0]["deleted"], message="tombstone on the server")


def test_typing_inside_a_commented_passage_keeps_and_grows_it(quire, people):
    ada, bea = people("Ada"), people("Bea", viewport={"width": 700, "height": 800})
    doc_id = ada.new_doc("Anchors", editors=(bea,))
    ada.open(doc_id)
    write(ada)
    bea.open(doc_id)
    bea.expect_text(TEXT)
    comment_on(ada, "brown fox", "Which fox?")
    bea.page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'brown fox'")

    # On Bea's narrow screen the threads are in a drawer, opened by a click on the highlight.
    drawer = bea.page.locator("#comments")
    expect(drawer).to_be_hidden()
    expect(bea.page.locator("#comments-button .count-badge")).to_have_text("1")
    bea.page.locator(".ProseMirror .comment-hl").first.click()
    expect(drawer).to_be_visible()
    expect(drawer.locator(".thread.is-active .message-body")).to_have_text("Which fox?")
    drawer.get_by_role("button", name="Close comments").click()
    expect(drawer).to_be_hidden()

    # Bea types inside the passage (after "brown ") and right after it.
    select_text(bea, "brown fox", caret=len("brown "))
    bea.page.keyboard.type("red ")
    select_text(bea, "brown red fox", caret=len("brown red fox"))
    bea.page.keyboard.type("es")
    expected = "The quick brown red foxes jumps over the lazy dog. A second sentence follows it."
    ada.expect_text(expected)
    for person in (ada, bea):
        person.page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'brown red fox'")
    bea.expect_state("saved")
    (thread,) = threads(ada, doc_id)
    assert (thread["state"], thread["anchor_text"], thread["quote"]) == ("open", "brown red fox", "brown fox")


def test_long_bodies_are_refused_and_deleted_passages_detach(quire, people):
    ada = people("Ada")
    doc_id = ada.new_doc("Limits")
    ada.open(doc_id)
    write(ada)
    page = ada.page

    select_text(ada, "lazy dog")
    page.get_by_role("button", name="Comment", exact=True).click()
    composer = page.get_by_role("dialog", name="New comment")
    box = composer.get_by_role("textbox", name="Your comment")
    box.fill("x" * 9_500)
    expect(composer.locator(".comment-count")).to_have_text("9,500 / 10,000")
    box.fill("x" * 10_001)
    expect(composer.get_by_role("alert")).to_contain_text("at most 10,000 characters")
    expect(composer.locator(".comment-count")).to_have_text("10,001 / 10,000")
    expect(composer.get_by_role("button", name="Comment")).to_be_disabled()  # aria-disabled
    page.keyboard.press("Control+Enter")
    expect(composer).to_be_visible()
    assert threads(ada, doc_id) == []
    box.fill("Which dog?")
    composer.get_by_role("button", name="Comment").click()
    expect(composer).to_be_hidden()
    expect(page.locator("#comments .thread")).to_have_count(1)

    # Deleting the passage detaches the thread: it stays, with the words it was about.
    select_text(ada, "lazy dog")
    page.keyboard.press("Backspace")
    card = page.locator("#comments .thread")
    expect(card.locator(".thread-note")).to_be_visible()
    expect(card.locator(".thread-quote")).to_have_text("lazy dog")
    ada.expect_state("saved")
    assert threads(ada, doc_id)[0]["state"] == "detached"
    # Undo brings the words back, and the highlight with them.
    page.keyboard.press("Control+z")
    page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'lazy dog'")
    expect(card.locator(".thread-note")).to_be_hidden()


XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TITLE = "<script>alert(2)</script><img src=https://evil.example/t.png onerror=alert(3)>"
XSS_BODY = ('<img src="https://evil.example/c.png" onerror="alert(4)"> <script>alert(5)</script> '
            '<a href="javascript:alert(6)">click me</a> javascript:alert(7)')


def guard(person, origin: str) -> list[str]:
    """Record any dialog and any request that leaves the server's origin."""
    problems: list[str] = []

    def on_dialog(dialog):
        problems.append(f"dialog: {dialog.message}")
        dialog.dismiss()

    def on_request(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob"):
            return
        if f"{parts.scheme}://{parts.netloc}".replace("ws://", "http://") != origin:
            problems.append(f"foreign request: {request.url}")

    person.page.on("dialog", on_dialog)
    person.page.on("request", on_request)
    return problems


INJECTED = "img, script:not([src]), iframe, object, embed, a[href^='javascript:']"


def test_untrusted_text_stays_text(quire, people):
    """A display name, a title and comments full of markup show as text everywhere: the header,
    avatars, carets, comments, the Share panel, the dashboard. No dialog, no element, no request."""
    mallory, bea = people(XSS_NAME), people("Bea")
    doc_id = bea.new_doc(XSS_TITLE, editors=(mallory,))
    problems = [guard(mallory, quire.url), guard(bea, quire.url)]
    mallory.open(doc_id)
    write(mallory, "Plain words to comment on.")
    bea.open(doc_id)
    bea.expect_text("Plain words to comment on.")
    comment_on(mallory, "words", XSS_BODY)

    card = bea.page.locator("#comments .thread")
    expect(card.locator(".message-body")).to_have_text(XSS_BODY)
    expect(card.locator(".message-author")).to_have_text(XSS_NAME)
    card.click()
    card.get_by_role("textbox", name="Reply").fill(XSS_BODY)
    bea.page.keyboard.press("Control+Enter")
    mallory_card = mallory.page.locator("#comments .thread")
    expect(mallory_card.locator(".message-body").nth(1)).to_have_text(XSS_BODY)

    # Bea, the owner, sees Mallory's name in the Share panel as text.
    bea.page.get_by_role("button", name="Share").click()
    expect(bea.page.locator(".share-list .share-name")).to_have_text(XSS_NAME)

    # Mallory's own name in the header (and the page's meta tag) is text too.
    expect(mallory.page.locator("header .account-name")).to_have_text(f"Signed in as {XSS_NAME}")
    assert mallory.page.locator('meta[name="quire-user"]').get_attribute("content") == XSS_NAME

    for person in (mallory, bea):
        page = person.page
        expect(page.locator("#doc-title")).to_have_value(XSS_TITLE)
        assert page.title() == f"{XSS_TITLE} — Quire"
        expect(page.locator("#avatars [data-name]")).to_have_count(2)
        # nothing from the untrusted text became markup anywhere on the page
        assert page.locator(INJECTED).count() == 0
    # the caret's name flag is drawn from data-name by CSS: text, never markup
    expect(bea.page.locator(".collaboration-carets__caret")).to_have_attribute("data-name", XSS_NAME)
    assert label_of(bea.page.locator(".collaboration-carets__caret")) == XSS_NAME

    # The dashboard lists the title as text (shared with Mallory).
    mallory.page.goto("/")
    row = mallory.page.locator(f'.doc-row[data-id="{doc_id}"]')
    expect(row.locator(".doc-title")).to_have_text(XSS_TITLE)
    expect(row.locator(".doc-shared")).to_have_text("Shared with you · can edit")
    expect(mallory.page.locator("header .account-name")).to_have_text(f"Signed in as {XSS_NAME}")
    assert mallory.page.locator(INJECTED).count() == 0

    threads_ = threads(bea, doc_id)
    assert [m["body"] for m in threads_[0]["messages"]] == [XSS_BODY, XSS_BODY]
    assert threads_[0]["author"]["name"] == XSS_NAME
    assert problems == [[], []], problems


def test_a_commenter_is_offered_only_what_is_theirs(quire, people):
    """Ownership by account id in the browser: the commenter sees no Edit, Delete or Resolve on
    the editor's comment, and both on their own reply; the owner may delete and resolve but not
    edit someone else's words."""
    ada, bea, cam = people("Ada"), people("Bea"), people("Cam")
    doc_id = ada.new_doc("Ownership", editors=(bea,))
    ada.invite(doc_id, cam, "commenter")
    ada.open(doc_id)
    write(ada)
    bea.open(doc_id)
    bea.expect_text(TEXT)
    comment_on(bea, "quick brown fox", "The editor's remark.")

    cam.open(doc_id)
    show_comments(cam)
    card = cam.page.locator("#comments .thread")
    expect(card.locator(".message-body")).to_have_text("The editor's remark.")
    card.click()
    expect(card).to_have_class(re.compile(r"\bis-active\b"))
    editors = card.locator(".message").first
    expect(editors.get_by_role("button", name="Edit")).to_be_hidden()
    expect(editors.get_by_role("button", name="Delete")).to_be_hidden()
    expect(card.get_by_role("button", name="Resolve thread")).to_be_hidden()

    card.get_by_role("textbox", name="Reply").fill("A commenter's reply.")
    cam.page.keyboard.press("Control+Enter")
    expect(card.locator(".message")).to_have_count(2)
    own = card.locator(".message").nth(1)
    own.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Edit your comment").fill("A commenter's reply, edited.")
    cam.page.keyboard.press("Control+Enter")
    expect(own.locator(".message-body")).to_have_text("A commenter's reply, edited.")
    expect(editors.get_by_role("button", name="Edit")).to_be_hidden()

    # the server has both messages under their authors' accounts
    def both_on_server():
        items = threads(ada, doc_id)
        messages = items[0]["messages"] if items else []
        return messages if len(messages) == 2 and messages[1]["edited_at"] else None

    first, second = eventually(both_on_server, message="the reply and its edit on the server")
    assert (first["author"]["username"], second["author"]["username"]) == (bea.username, cam.username)
    assert second["body"] == "A commenter's reply, edited."

    # the commenter deletes a thread of their own: its highlight goes first (while the thread
    # still says whose it is: the server judges the mark removal by it), then its data
    comment_on(cam, "lazy dog", "Never mind.")
    mine = cam.page.locator("#comments .thread.is-active")
    expect(mine.locator(".message-body")).to_have_text("Never mind.")
    tid = mine.get_attribute("data-thread-id")
    cam.page.evaluate("""id => {
      const doc = window.quire.session.doc
      window.seen = []
      doc.on('update', () => window.seen.push(doc.getMap('comments').has(id)))
    }""", tid)
    mine.get_by_role("button", name="Delete").click()
    mine.get_by_role("group", name="Delete this comment?").get_by_role("button", name="Delete").click()
    expect(cam.page.locator(f'#comments .thread[data-thread-id="{tid}"]')).to_have_count(0)
    assert cam.page.evaluate("window.seen") == [True, False]
    eventually(lambda: len(threads(ada, doc_id)) == 1, message="the thread gone on the server")
    ada.page.wait_for_function(f"() => ({HIGHLIGHTED})() === 'quick brown fox'")

    # the owner: Delete and Resolve on others' comments, never Edit
    show_comments(ada)
    ada_card = ada.page.locator("#comments .thread")
    ada_card.click()
    expect(ada_card.locator(".message")).to_have_count(2)
    for message in (ada_card.locator(".message").first, ada_card.locator(".message").nth(1)):
        expect(message.get_by_role("button", name="Edit")).to_be_hidden()
        expect(message.get_by_role("button", name="Delete")).to_be_visible()
    expect(ada_card.get_by_role("button", name="Resolve thread")).to_be_visible()


def test_two_people_with_the_same_display_name_are_told_apart(quire, people):
    """Two accounts named "Alex Kim": their comments, their avatars and the version history
    show their usernames; neither is offered Edit on the other's comment."""
    ada = people("Ada")
    alex, twin = people("Alex Kim"), people("Alex Kim")
    assert alex.username != twin.username
    doc_id = ada.new_doc("Namesakes", editors=(alex, twin))
    ada.open(doc_id)
    write(ada)
    alex.open(doc_id)
    twin.open(doc_id)
    twin.expect_text(TEXT)
    comment_on(alex, "quick brown fox", "From the first Alex.")
    comment_on(twin, "lazy dog", "From the second Alex.")

    cards = ada.page.locator("#comments .thread")
    show_comments(ada)
    expect(cards).to_have_count(2)
    for card, person, body in ((cards.nth(0), alex, "From the first Alex."),
                               (cards.nth(1), twin, "From the second Alex.")):
        expect(card.locator(".message-body")).to_have_text(body)
        expect(card.locator(".message-author")).to_have_text("Alex Kim")
        expect(card.locator(".message-username")).to_have_text(f"@{person.username}")
    expect(ada.page.locator('#avatars [data-tip="Alex Kim @' + alex.username + '"]')).to_have_count(1)
    expect(ada.page.locator('#avatars [data-tip="Alex Kim @' + twin.username + '"]')).to_have_count(1)

    # the second Alex may edit their own comment, not the first one's
    twin_cards = twin.page.locator("#comments .thread")
    show_comments(twin)
    twin_cards.nth(0).click()
    expect(twin_cards.nth(0)).to_have_class(re.compile(r"\bis-active\b"))
    expect(twin_cards.nth(0).get_by_role("button", name="Edit")).to_be_hidden()
    twin_cards.nth(1).click()
    expect(twin_cards.nth(1).get_by_role("button", name="Edit")).to_be_visible()

    # both typed: the version history lists two people, told apart
    for person, words in ((alex, " First Alex was here."), (twin, " Second Alex too.")):
        person.editor.click()
        person.page.keyboard.press("Control+End")
        person.page.keyboard.type(words)
        person.expect_state("saved")
    ada.expect_contains("Second Alex too.")
    ada.page.get_by_role("button", name="History", exact=True).click()
    panel = ada.page.get_by_role("complementary", name="Version history")
    panel.get_by_role("button", name="Name current version").click()
    panel.get_by_role("textbox", name="Version name").fill("Both Alexes")
    ada.page.keyboard.press("Enter")
    meta = panel.locator(".version-item.kind-named .version-meta")
    expect(meta).to_contain_text(f"Alex Kim @{alex.username}")
    expect(meta).to_contain_text(f"Alex Kim @{twin.username}")


def test_a_share_link_visitor_owns_their_comments_across_a_reload(quire, people):
    """Without an account, a link visitor writes as "link:<share id>"; after a reload (the
    token is no longer in the address) their comment is still theirs to edit."""
    ada = people("Ada")
    doc_id = ada.new_doc("Link comments")
    ada.open(doc_id)
    write(ada)
    link = ada.share_link(doc_id, "commenter")
    vic = people("Vic", account=False)
    vic.open_link(link["url"])
    comment_on(vic, "lazy dog", "A visitor's note.")

    def on_server():
        items = threads(ada, doc_id)
        return items[0] if items else None

    thread = eventually(on_server, message="the visitor's thread on the server")
    assert thread["author"]["id"] == f"link:{link['id']}"
    assert (thread["author"]["name"], thread["author"]["username"]) == ("Vic", None)

    vic.page.reload()
    vic.page.locator("#editor .ProseMirror").wait_for()
    vic.expect_state("saved")
    show_comments(vic)
    card = vic.page.locator("#comments .thread")
    card.click()
    card.get_by_role("button", name="Edit").click()
    card.get_by_role("textbox", name="Edit your comment").fill("A visitor's note, edited.")
    vic.page.keyboard.press("Control+Enter")
    eventually(lambda: on_server()["messages"][0]["body"] == "A visitor's note, edited.",
               message="the edit on the server")


def label_of(caret) -> str:
    """The name flag a person sees over a caret (CSS generated content, from data-name)."""
    return caret.evaluate("el => getComputedStyle(el, '::after').content").strip('"').replace('\\"', '"')


def test_a_commenter_selects_with_the_keyboard_and_comments(quire, people):
    """Issue 18, defect 3: a commenter's text is not editable, so the keys moved nothing and a
    keyboard-only commenter could not select what to comment on."""
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Read and comment")
    ada.invite(doc_id, bea, "commenter")
    ada.open(doc_id)
    write(ada)
    bea.open(doc_id)
    bea.expect_text(TEXT)
    page, keys = bea.page, bea.page.keyboard
    for _ in range(40):  # Tab to the text, as a keyboard user does
        keys.press("Tab")
        if page.evaluate("document.activeElement === window.quire.editor.view.dom"):
            break
    else:
        raise AssertionError("the text is not in the Tab order for a commenter")
    expect(page.locator(".reader-caret")).to_have_count(1)  # where the keys start from
    keys.press("Control+Home")
    keys.press("Control+ArrowRight")  # past "The"
    for _ in range(len(" quick brown")):
        keys.press("Shift+ArrowRight")
    keys.press("Control+Alt+m")
    composer = page.get_by_role("dialog", name="New comment")
    expect(composer).to_be_visible()
    composer.get_by_role("textbox", name="Your comment").type("Which fox?", delay=5)
    keys.press("Control+Enter")
    expect(composer).to_be_hidden()
    assert [(t["anchor_text"], t["messages"][0]["body"]) for t in threads(bea, doc_id)] == [
        (" quick brown", "Which fox?")]
    assert ada.content(doc_id)["text"].strip() == TEXT  # and the text is as it was
