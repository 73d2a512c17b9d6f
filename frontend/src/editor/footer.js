// The footer: word count (and the selection's), and the keyboard shortcut list.
import { formatKeys, h } from '../shared/dom.js'
import { BLOCK_STYLES, EXTRA_SHORTCUTS, toolGroups } from './tools.js'

const WORD = /\S+/g

/** @param {string} text */
export function countWords (text) {
  return (text.match(WORD) || []).length
}

/** @param {number} n @param {string} one @param {string} many */
const plural = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`

/**
 * @param {{editor: import('@tiptap/core').Editor, counter: HTMLElement, button: HTMLElement, panel: HTMLElement}} options
 */
export function mountFooter ({ editor, counter, button, panel }) {
  let frame = 0
  const refresh = () => {
    frame = 0
    const words = editor.storage.characterCount.words()
    const { from, to, empty } = editor.state.selection
    const selected = empty ? 0 : countWords(editor.state.doc.textBetween(from, to, ' ', ' '))
    counter.textContent = selected
      ? `${plural(selected, 'word', 'words')} of ${plural(words, 'word', 'words')} selected`
      : plural(words, 'word', 'words')
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(refresh) }
  editor.on('update', schedule)
  editor.on('selectionUpdate', schedule)
  editor.on('create', schedule)
  refresh()

  // ---- shortcut list ----
  const rows = []
  for (const group of toolGroups({ openLink: () => {} })) {
    for (const tool of group) if (tool.keys) rows.push([tool.label, tool.keys])
  }
  for (const style of BLOCK_STYLES) rows.push([style.label, style.keys])
  for (const extra of EXTRA_SHORTCUTS) rows.push([extra.label, extra.keys])
  panel.replaceChildren(
    h('div', { class: 'panel-head' },
      h('h2', { id: 'shortcuts-title' }, 'Keyboard shortcuts'),
      h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'close' }, 'Close')),
    h('dl', { class: 'shortcut-list' }, ...rows.flatMap(([label, keys]) => [
      h('dt', {}, label), h('dd', {}, h('kbd', {}, formatKeys(keys))),
    ])),
  )

  const toggle = (/** @type {boolean} */ open) => {
    panel.hidden = !open
    button.setAttribute('aria-expanded', String(open))
    if (open) /** @type {HTMLElement} */ (panel.querySelector('[data-action="close"]')).focus()
    else button.focus()
  }
  button.addEventListener('click', () => toggle(panel.hidden))
  panel.addEventListener('click', (event) => {
    if (/** @type {HTMLElement} */ (event.target).closest('[data-action="close"]')) toggle(false)
  })
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !panel.hidden) {
      toggle(false)
      return
    }
    // "/" opens the list when the focus is not somewhere that takes text.
    if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return
    const target = /** @type {HTMLElement} */ (event.target)
    if (target.closest('input, textarea, select, [contenteditable="true"]')) return
    event.preventDefault()
    toggle(true)
  })
}
