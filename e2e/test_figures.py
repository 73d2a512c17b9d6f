"""Figures as people add them (issue 18, item 9): the toolbar's Insert image with its file
picker, a pasted and a dropped picture, alt text and a caption, resizing by dragging the
corner; a co-author sees each at once, a reader on a view link sees it but cannot change it,
and a file that is not a picture is refused with a message while the text stays as it was."""

from __future__ import annotations

import base64
import io
import re
import zipfile

from PIL import Image
from playwright.sync_api import expect

from e2e.helpers import eventually, import_from_dashboard


def png_bytes(width: int = 320, height: int = 200, color=(30, 110, 200)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "PNG")
    return out.getvalue()


def server_images(person, doc_id: str) -> list[dict]:
    found: list[dict] = []

    def walk(node: dict) -> None:
        if node.get("type") == "image":
            found.append(node.get("attrs") or {})
        for child in node.get("content") or []:
            walk(child)

    walk(person.content(doc_id)["json"])
    return found


def loaded(page, index: int = 0) -> bool:
    return page.evaluate(
        "i => { const img = document.querySelectorAll('#editor .figure img')[i];"
        " return !!img && img.complete && img.naturalWidth > 0 }", index)


def test_insert_describe_and_resize_a_picture_seen_live_by_a_coauthor(quire, people, tmp_path):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Edge report", editors=(bea,))
    bea.open(doc_id)
    bea.editor.click()  # Bea is here, her caret in the text
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Our edge nodes: ", delay=20)

    picture = tmp_path / "edge-nodes_map.png"
    picture.write_bytes(png_bytes())
    with ada.page.expect_file_chooser() as chooser:
        ada.page.get_by_role("button", name="Insert image").click()
    chooser.value.set_files(str(picture))

    dialog = ada.page.get_by_role("dialog", name="Image description")
    expect(dialog).to_be_visible()
    alt = dialog.get_by_label("Alt text")
    expect(alt).to_be_focused()
    expect(alt).to_have_value("edge nodes map")  # a start, from the file name
    ada.page.keyboard.press("Control+a")
    ada.page.keyboard.type("Map of the edge nodes", delay=10)
    ada.page.keyboard.press("Tab")
    ada.page.keyboard.type("Figure 1: where the nodes run", delay=10)
    ada.page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()

    # Bea sees it at once, loaded, with its alt text and caption
    figure = bea.editor.locator(".figure")
    expect(figure).to_have_count(1)
    expect(figure.locator("img")).to_have_attribute("alt", "Map of the edge nodes")
    expect(figure.locator(".figure-caption")).to_have_text("Figure 1: where the nodes run")
    eventually(lambda: loaded(bea.page))
    attrs = eventually(lambda: server_images(ada, doc_id))[0]
    assert attrs["src"].startswith(f"/api/docs/{doc_id}/images/")
    assert "token" not in attrs["src"]
    assert attrs["title"] == "Figure 1: where the nodes run"
    # the text around it is where Ada typed it: the picture sits in her paragraph
    assert ada.content(doc_id)["json"]["content"][0]["content"][0]["text"] == "Our edge nodes: "

    # typing goes on after the picture (a click on it selects it: Ctrl+End leaves it be)
    ada.editor.locator(".figure img").click()
    ada.page.keyboard.press("Control+End")
    ada.page.keyboard.type(" as of May.", delay=20)
    bea.expect_contains("as of May.")

    # resize: select the picture and drag its corner to make it narrower
    img = ada.editor.locator(".figure img")
    img.click()
    box = img.bounding_box()
    handle = ada.editor.locator(".figure [data-resize-handle='bottom-right']")
    expect(handle).to_be_visible()
    hb = handle.bounding_box()
    ada.page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2)
    ada.page.mouse.down()
    ada.page.mouse.move(hb["x"] - 120, hb["y"] - 40, steps=8)
    ada.page.mouse.up()
    width = eventually(lambda: server_images(ada, doc_id)[0].get("width"))
    assert 150 <= width <= box["width"] - 80
    expect(bea.editor.locator(".figure img")).to_have_css("width", f"{width}px")

    # the export links it; the server copy and both pages agree
    md = ada.api("GET", f"/api/docs/{doc_id}/export.md").text()
    assert f'![Map of the edge nodes]({quire.url}{attrs["src"]} "Figure 1: where the nodes run")' in md


def test_paste_and_drop_a_picture(quire, people):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Pasted", editors=(bea,))
    bea.open(doc_id)
    bea.editor.click()
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Before. ", delay=20)
    data = base64.b64encode(png_bytes(60, 40, (200, 30, 30))).decode()
    # a browser test cannot put a file on the system clipboard or drag one from the desktop:
    # the page gets the same events a real paste and drop deliver
    ada.page.evaluate("""b64 => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0))
        const data = new DataTransfer()
        data.items.add(new File([bytes], 'pasted.png', { type: 'image/png' }))
        const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true })
        document.querySelector('#editor .ProseMirror').dispatchEvent(event)
    }""", data)
    expect(bea.editor.locator(".figure")).to_have_count(1)
    ada.page.keyboard.type("After.", delay=20)
    bea.expect_contains("After.")

    paragraph = ada.editor.locator("p").first.bounding_box()
    ada.page.evaluate("""([b64, x, y]) => {
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0))
        const data = new DataTransfer()
        data.items.add(new File([bytes], 'dropped.png', { type: 'image/png' }))
        const target = document.querySelector('#editor .ProseMirror')
        for (const type of ['dragenter', 'dragover', 'drop']) {
          target.dispatchEvent(new DragEvent(type, { dataTransfer: data, clientX: x, clientY: y, bubbles: true, cancelable: true }))
        }
    }""", [base64.b64encode(png_bytes(50, 50, (10, 160, 60))).decode(),
           paragraph["x"] + 5, paragraph["y"] + paragraph["height"] / 2])
    expect(bea.editor.locator(".figure")).to_have_count(2)
    found = eventually(lambda: server_images(ada, doc_id) if len(server_images(ada, doc_id)) == 2 else None)
    assert found[0]["alt"] == "dropped"  # dropped at the start of the line
    assert found[1]["alt"] == "pasted"
    assert ada.content(doc_id)["text"] == "Before. After."  # the pictures took no text
    eventually(lambda: loaded(bea.page, 0) and loaded(bea.page, 1))


def test_a_reader_on_a_link_sees_pictures_and_cannot_change_them(quire, people, tmp_path):
    ada, vic = people("Ada"), people(None, account=False)
    doc_id = ada.new_doc("For readers")
    ada.open(doc_id)
    ada.editor.click()
    ada.page.keyboard.type("Look: ", delay=20)
    picture = tmp_path / "chart.png"
    picture.write_bytes(png_bytes(80, 60))
    with ada.page.expect_file_chooser() as chooser:
        ada.page.get_by_role("button", name="Insert image").click()
    chooser.value.set_files(str(picture))
    ada.page.keyboard.press("Escape")
    eventually(lambda: server_images(ada, doc_id))

    link = ada.share_link(doc_id, "viewer")
    vic.open_link(link["url"], state="readonly")
    expect(vic.editor.locator(".figure")).to_have_count(1)
    eventually(lambda: loaded(vic.page))  # served with the link's token
    expect(vic.page.get_by_role("button", name="Insert image")).to_have_attribute("aria-disabled", "true")
    expect(vic.editor.locator("[data-resize-handle]")).to_have_count(0)
    vic.editor.locator(".figure img").dblclick()
    expect(vic.page.get_by_role("dialog", name="Image description")).to_be_hidden()
    # nobody without the link is served it
    src = server_images(ada, doc_id)[0]["src"]
    stranger = people("Sly")
    assert stranger.api("GET", src, ok=False).status == 404


def test_a_file_that_is_not_a_picture_is_refused_with_a_message(quire, people, tmp_path):
    ada, bea = people("Ada"), people("Bea")
    doc_id = ada.new_doc("Refusals", editors=(bea,))
    bea.open(doc_id)
    bea.editor.click()
    ada.open(doc_id)
    ada.allowed.append(re.compile(r"status of 415"))  # the browser logs the refusal itself
    ada.editor.click()
    ada.page.keyboard.type("Unchanged text.", delay=20)
    bea.expect_text("Unchanged text.")
    fake = tmp_path / "evil.png"
    fake.write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>')
    with ada.page.expect_file_chooser() as chooser:
        ada.page.get_by_role("button", name="Insert image").click()
    chooser.value.set_files(str(fake))
    status = ada.page.locator("#upload-status")
    expect(status).to_contain_text("evil.png was not added")
    expect(status).to_contain_text("not a PNG, JPEG, GIF or WebP")
    ada.page.keyboard.type(" Still typing.", delay=20)
    bea.expect_text("Unchanged text. Still typing.")
    assert server_images(ada, doc_id) == []


def test_a_markdown_and_images_zip_imports_from_the_dashboard(quire, people, tmp_path):
    ada = people("Ada")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("paper/README.md", "# Edge paper\n\nThe map ![Map](images/map.png) "
                         "shows the nodes.\n")
        archive.writestr("paper/images/map.png", png_bytes(90, 60, (240, 160, 0)))
    bundle = tmp_path / "edge-paper.zip"
    bundle.write_bytes(out.getvalue())
    import_from_dashboard(ada, bundle)
    figure = ada.editor.locator("h1 + p .figure img")
    expect(figure).to_have_attribute("alt", "Map")
    eventually(lambda: loaded(ada.page))
    ada.expect_text("Edge paper\nThe map  shows the nodes.")
