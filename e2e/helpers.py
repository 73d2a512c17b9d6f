"""Small waits shared by the browser tests (no fixed sleeps: poll with a deadline)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(probe: Callable[[], T], *, timeout: float = 10.0, interval: float = 0.05,
               message: str = "condition") -> T:
    """Call `probe` until it returns something truthy; fail with its last value after `timeout`."""
    deadline = time.monotonic() + timeout
    last: T = probe()
    while not last:
        if time.monotonic() > deadline:
            raise AssertionError(f"{message} not reached within {timeout}s (last: {last!r})")
        time.sleep(interval)
        last = probe()
    return last


def converged(*people) -> dict:
    """Wait until every person's editor holds the same document; return it."""
    def probe():
        docs = [p.json() for p in people]
        return docs[0] if all(d == docs[0] for d in docs) else None

    return eventually(probe, message="all editors identical")


# Select the `occurrence`-th appearance of `needle` inside one text block of the editor (or put
# the caret `caret` characters into it) and focus the editor. Returns [from, to].
_SELECT_JS = """([needle, occurrence, caret]) => {
  const editor = window.quire.editor
  let found = 0
  let range = null
  editor.state.doc.descendants((node, pos) => {
    if (range || !node.isTextblock) return !range
    const text = node.textContent
    let at = text.indexOf(needle)
    while (at >= 0 && !range) {
      if (++found === occurrence) range = [pos + 1 + at, pos + 1 + at + needle.length]
      at = text.indexOf(needle, at + 1)
    }
    return false
  })
  if (!range) throw new Error(`"${needle}" is not in the document`)
  const [from, to] = caret === null ? range : [range[0] + caret, range[0] + caret]
  editor.commands.setTextSelection({ from, to })
  editor.view.focus() // now: Tiptap's focus command waits a frame, and keys may come sooner
  return [from, to]
}"""


def select_text(person, needle: str, *, occurrence: int = 1, caret: int | None = None) -> list[int]:
    """Select `needle` in `person`'s editor (caret=N: put the caret N characters into it)."""
    return person.page.evaluate(_SELECT_JS, [needle, occurrence, caret])


def selected_text(page) -> str:
    """The text selected in the editor on `page` (blocks joined by newlines)."""
    return page.evaluate("(() => { const s = window.quire.editor.state.selection;"
                         " return window.quire.editor.state.doc.textBetween(s.from, s.to, '\\n') })()")


def comment_on(person, passage: str, body: str) -> None:
    """Select `passage`, press Ctrl+Alt+M, type `body` and send it with Ctrl+Enter."""
    from playwright.sync_api import expect

    select_text(person, passage)
    person.page.keyboard.press("Control+Alt+m")
    composer = person.page.get_by_role("dialog", name="New comment")
    expect(composer).to_be_visible()
    composer.get_by_role("textbox", name="Your comment").fill(body)
    person.page.keyboard.press("Control+Enter")
    expect(composer).to_be_hidden()


def import_from_dashboard(person, path) -> str:
    """Import a file with the dashboard's Import Markdown button, as a person does; wait for
    the editor it opens and return the new document's id."""
    person.page.goto("/")
    with person.page.expect_file_chooser() as chooser:
        person.page.get_by_role("button", name="Import Markdown").first.click()
    chooser.value.set_files(str(path))
    person.page.wait_for_url("**/d/*")
    person.page.locator("#editor .ProseMirror").wait_for()
    return person.page.url.rsplit("/", 1)[1].split("?")[0]
