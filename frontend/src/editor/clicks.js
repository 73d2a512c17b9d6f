// Where a click or a new page puts the caret, beyond what ProseMirror does by itself:
// - a click on the blank part of the page below the last line puts the caret at the end of the
//   text (as in every word processor), instead of doing nothing while typing goes nowhere;
// - a document just made from the dashboard (/d/{id}?new=1) starts in its title, its text
//   selected, once the title may be edited; Enter then moves to the text (title.js). If the
//   person put the focus somewhere before then (Tab to a button, a click in the search box),
//   it stays there.

/**
 * @param {{editor: import('@tiptap/core').Editor, page: HTMLElement}} parts
 */
export function caretOnBlankClicks ({ editor, page }) {
  page.addEventListener('mousedown', (event) => {
    if (event.button !== 0 || event.detail > 1) return
    const target = /** @type {HTMLElement} */ (event.target)
    if (target.closest('.ProseMirror, .side, .find-bar, .version-preview, button, a, input, textarea')) return
    const last = editor.view.dom.lastElementChild
    if (!last || event.clientY < last.getBoundingClientRect().bottom) return
    const text = editor.view.dom.getBoundingClientRect()
    if (event.clientX < text.left - 40 || event.clientX > text.right + 40) return // the margins
    event.preventDefault()
    editor.commands.focus('end')
  })
}

/**
 * @param {{title: HTMLInputElement, whenEditable: (run: () => void) => void}} parts
 */
export function startInTitleIfNew ({ title, whenEditable }) {
  const url = new URL(location.href)
  if (url.searchParams.get('new') !== '1') return
  url.searchParams.delete('new')
  history.replaceState(history.state, '', url)
  whenEditable(() => {
    const active = document.activeElement
    if (active && active !== document.body && active !== title) return // they moved on
    title.focus()
    title.select()
  })
}
