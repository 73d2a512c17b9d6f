// Find and replace in the document: Ctrl/Cmd+F opens the find bar, Ctrl/Cmd+H the same bar with
// its replace row. Matching, highlighting, next/previous and replacing are ProseMirror's own
// prosemirror-search (its plugin is in extensions.js); this module is the bar around it.
// The query is plain text (never a regular expression a person typed), at most 200 characters.
// Replace all is one transaction, so one Ctrl+Z undoes it (Yjs undo tracks this person's own
// changes only). People who cannot edit the text can find but not replace.
import {
  SearchQuery, findNext, findPrev, getSearchState, replaceAll, replaceCurrent, setSearchState,
} from 'prosemirror-search'
import { TextSelection } from '@tiptap/pm/state'
import { h, icon } from '../shared/dom.js'

const MAX_QUERY = 200
const MAX_COUNTED = 1000 // "1000+ matches" past this: counting is a walk of the document

/**
 * @param {{editor: import('@tiptap/core').Editor, slot: HTMLElement}} parts
 */
export function mountFind ({ editor, slot }) {
  const view = editor.view
  const findInput = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', class: 'find-input', placeholder: 'Find in document', 'aria-label': 'Find in document',
    maxlength: String(MAX_QUERY), autocomplete: 'off', spellcheck: 'false',
  }))
  const replaceInput = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', class: 'find-input', placeholder: 'Replace with', 'aria-label': 'Replace with',
    maxlength: String(MAX_QUERY), autocomplete: 'off', spellcheck: 'false',
  }))
  const count = h('span', { class: 'find-count', role: 'status', 'aria-live': 'polite' })
  const toggle = (/** @type {string} */ label, /** @type {string} */ text) => /** @type {HTMLButtonElement} */ (
    h('button', { type: 'button', class: 'find-toggle', 'aria-pressed': 'false', 'aria-label': label, 'data-tip': label }, text))
  const caseButton = toggle('Match case', 'Aa')
  const wordButton = toggle('Whole words', 'W')
  const button = (/** @type {string} */ label, /** @type {Node|string} */ content, /** @type {string} */ cls = 'btn-icon btn-small') =>
    /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: cls, 'aria-label': label, 'data-tip': label }, content))
  const prevButton = button('Previous match (Shift+Enter)', '↑')
  const nextButton = button('Next match (Enter)', '↓')
  const closeButton = button('Close find (Escape)', icon('x'))
  const replaceButton = button('Replace', 'Replace', 'btn btn-small')
  const replaceAllButton = button('Replace all', 'Replace all', 'btn btn-small')
  const replaceRow = h('div', { class: 'find-row find-replace', hidden: true },
    replaceInput, replaceButton, replaceAllButton)
  const bar = h('div', { class: 'find-bar', role: 'search', 'aria-label': 'Find and replace', hidden: true },
    h('div', { class: 'find-row' }, findInput, count, caseButton, wordButton, prevButton, nextButton, closeButton),
    replaceRow)
  slot.append(bar)

  const pressed = (/** @type {HTMLButtonElement} */ b) => b.getAttribute('aria-pressed') === 'true'
  const canReplace = () => editor.isEditable

  function query () {
    return new SearchQuery({
      search: findInput.value.slice(0, MAX_QUERY),
      replace: replaceInput.value.slice(0, MAX_QUERY),
      caseSensitive: pressed(caseButton),
      wholeWord: pressed(wordButton),
      literal: true,
    })
  }

  /** Tell the plugin the query (it highlights every match), then recount. */
  function apply () {
    const q = query()
    const current = getSearchState(view.state)?.query
    if (!current || !current.eq(q)) view.dispatch(setSearchState(view.state.tr, q))
    recount()
  }

  /** "3 of 12": the matches in the document, and which one the selection is on. */
  function recount () {
    const q = getSearchState(view.state)?.query
    if (bar.hidden || !q || !q.valid) {
      count.textContent = ''
      return
    }
    const { from, to } = view.state.selection
    let total = 0
    let current = 0
    let at = 0
    for (;;) {
      const found = q.findNext(view.state, at)
      if (!found || total >= MAX_COUNTED) break
      total++
      if (found.from === from && found.to === to) current = total
      at = found.to > found.from ? found.to : found.to + 1
    }
    count.textContent = total === 0 ? 'No matches'
      : total >= MAX_COUNTED ? `${MAX_COUNTED}+ matches`
        : current ? `${current} of ${total}` : `${total} ${total === 1 ? 'match' : 'matches'}`
  }

  /** @param {import('@tiptap/pm/state').Command} command */
  function run (command) {
    apply()
    command(view.state, view.dispatch, view)
    recount()
  }

  function open (/** @type {boolean} */ withReplace) {
    bar.hidden = false
    replaceRow.hidden = !(withReplace && canReplace())
    const { from, to, empty } = view.state.selection
    if (!empty && to - from <= MAX_QUERY) {
      const selected = view.state.doc.textBetween(from, to, ' ')
      if (!selected.includes('\n')) findInput.value = selected
    }
    apply()
    const target = withReplace && !replaceRow.hidden && findInput.value ? replaceInput : findInput
    target.focus()
    target.select()
  }

  function close () {
    bar.hidden = true
    view.dispatch(setSearchState(view.state.tr, new SearchQuery({ search: '' })))
    count.textContent = ''
    // back to the text, at the match the person was on
    view.focus()
  }

  findInput.addEventListener('input', () => {
    apply()
    // follow the typing: the first match at or after the caret
    const q = getSearchState(view.state)?.query
    if (!q || !q.valid) return
    const found = q.findNext(view.state, view.state.selection.from) || q.findNext(view.state, 0)
    if (found) {
      view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, found.from, found.to)).scrollIntoView())
      recount()
    }
  })
  replaceInput.addEventListener('input', apply)
  for (const b of [caseButton, wordButton]) {
    b.addEventListener('click', () => {
      b.setAttribute('aria-pressed', String(!pressed(b)))
      apply()
    })
  }
  nextButton.addEventListener('click', () => run(findNext))
  prevButton.addEventListener('click', () => run(findPrev))
  replaceButton.addEventListener('click', () => { if (canReplace()) run(replaceCurrentOrNext) })
  replaceAllButton.addEventListener('click', () => { if (canReplace()) run(replaceAll) })
  closeButton.addEventListener('click', close)
  bar.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      close()
    } else if (event.key === 'Enter' && event.target === findInput) {
      event.preventDefault()
      run(event.shiftKey ? findPrev : findNext)
    } else if (event.key === 'Enter' && event.target === replaceInput) {
      event.preventDefault()
      if (canReplace()) run(replaceCurrentOrNext)
    }
  })

  /** Replace the match the selection is on (then go to the next), or go to the next match. */
  /** @type {import('@tiptap/pm/state').Command} */
  function replaceCurrentOrNext (state, dispatch, v) {
    if (replaceCurrent(state, dispatch, v)) {
      return findNext(view.state, view.dispatch, view) || true
    }
    return findNext(state, dispatch, v)
  }

  // others type too: the plugin moves the highlights; the count follows
  let frame = 0
  editor.on('transaction', () => {
    if (bar.hidden || frame) return
    frame = requestAnimationFrame(() => { frame = 0; recount() })
  })

  document.addEventListener('keydown', (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return
    const key = event.key.toLowerCase()
    if (key !== 'f' && key !== 'h') return
    if (/** @type {HTMLElement} */ (event.target).closest('dialog[open]')) return
    event.preventDefault()
    open(key === 'h')
  })

  return { open, close }
}
