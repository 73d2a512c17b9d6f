"""Nothing typed is lost: reload, a server killed and restarted, a browser gone offline."""

from __future__ import annotations

from playwright.sync_api import expect

from e2e.helpers import converged, eventually


def test_reload_keeps_everything(quire, people):
    ada = people("Ada")
    doc_id = ada.new_doc("Reload")
    ada.open(doc_id)
    ada.editor.click()
    keys = ada.page.keyboard
    keys.press("Control+Alt+2")
    keys.type("Section")
    keys.press("Enter")
    keys.type("Some ")
    keys.press("Control+i")
    keys.type("emphasis")
    ada.page.locator("#doc-title").fill("Renamed in the header")
    ada.expect_state("saved")
    before = ada.json()

    ada.page.reload()
    ada.page.locator(".ProseMirror").wait_for()
    ada.expect_state("saved")
    assert converged(ada) == before
    expect(ada.page.locator("#doc-title")).to_have_value("Renamed in the header")
    # the server mirrors the title into the documents table (debounced)
    eventually(lambda: ada.doc(doc_id)["title"] == "Renamed in the header",
               message="title mirrored to the documents table")


def test_server_killed_and_restarted_mid_session(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Outage", editors=(bea,))
    for person in (ada, bea):
        person.allow_network_errors()
        person.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Before the outage.")
    bea.expect_text("Before the outage.")
    ada.expect_state("saved")

    quire.kill()
    ada.expect_state("reconnecting")
    bea.expect_state("reconnecting")
    ada.page.keyboard.type(" Ada wrote during it.")
    bea.editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("Bea wrote during it.")
    expect(bea.page.locator("#save-state")).to_have_text("Reconnecting…")

    quire.start()
    ada.expect_state("saved", timeout=15_000)
    bea.expect_state("saved", timeout=15_000)
    doc = converged(ada, bea)
    text = ada.text()
    assert "Ada wrote during it." in text and "Bea wrote during it." in text, text
    server = ada.content(doc_id)
    assert "Ada wrote during it." in server["text"] and "Bea wrote during it." in server["text"]
    assert doc == bea.json()


def test_offline_edits_merge_when_back_online(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Offline", editors=(bea,))
    for person in (ada, bea):
        person.allow_network_errors()
        person.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Shared start.")
    bea.expect_text("Shared start.")

    bea.context.set_offline(True)
    bea.expect_state("offline")
    expect(bea.page.locator("#save-state")).to_have_text("Offline — changes kept on this device")
    bea.editor.click()
    bea.page.keyboard.press("Control+End")
    bea.page.keyboard.press("Enter")
    bea.page.keyboard.type("Written on the train.")
    ada.page.keyboard.type(" Written at the office.")
    ada.expect_state("saved")
    expect(ada.editor).not_to_contain_text("Written on the train.")

    bea.context.set_offline(False)
    bea.expect_state("saved")
    converged(ada, bea)
    for person in (ada, bea):
        person.expect_contains("Written on the train.")
        person.expect_contains("Written at the office.")
    server = ada.content(doc_id)
    assert "Written on the train." in server["text"]


def test_reload_while_the_server_is_down_shows_the_local_copy(quire, people):
    ada = people("Ada")
    doc_id = ada.new_doc("Reload while down")
    ada.allow_network_errors()
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Written before the outage.")
    ada.expect_state("saved")
    # the service worker runs and this page's shell and files are in its cache
    ada.page.wait_for_function("() => !!navigator.serviceWorker.controller")
    eventually(lambda: ada.page.evaluate(
        "async () => (await caches.keys()).length > 0 && !!(await caches.match(location.pathname))"),
        message="page shell cached")

    quire.kill()
    ada.page.reload()
    ada.page.locator(".ProseMirror").wait_for()
    ada.expect_contains("Written before the outage.")
    ada.expect_state("reconnecting")
    ada.editor.click()
    ada.page.keyboard.press("Control+End")
    ada.page.keyboard.type(" Typed after reloading with the server down.")

    quire.start()
    ada.expect_state("saved", timeout=15_000)
    server = ada.content(doc_id)
    assert "Typed after reloading with the server down." in server["text"]
