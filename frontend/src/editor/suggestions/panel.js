// The mode switch (Editing / Suggesting / Viewing) in the top bar, and the Suggestions panel
// (its cards are also in the comment margin, above the threads): a card per pending suggestion ("Ada: Replace “fast” with “quick”"), Accept and Reject for
// editors and the owner (Withdraw for its author), Accept all / Reject all, optionally one
// person's. Cards and the document stay live: they are read from the editor's state.
import { TextSelection } from '@tiptap/pm/state'
import { h, icon } from '../../shared/dom.js'
import { relativeTime } from '../../shared/time.js'
import { listSuggestions } from '../../shared/api.js'
import { decide, hueOf, suggestionsIn } from './track.js'

/** @typedef {'editing' | 'suggesting' | 'viewing'} Mode */

const MODES = /** @type {const} */ ([
  ['editing', 'Editing', 'Edit the text directly'],
  ['suggesting', 'Suggesting', 'Your edits become suggestions the owner or editors accept'],
  ['viewing', 'Viewing', 'Read without changing anything'],
])

/** "“fast”", shortened. @param {string} text */
function quoted (text) {
  const one = text.replace(/\s+/g, ' ').trim()
  return `“${one.length > 60 ? `${one.slice(0, 57)}…` : one}”`
}

/** What a suggestion does, in words. @param {{inserted: string, deleted: string}} s */
export function describe (s) {
  if (s.inserted && s.deleted) return `Replace ${quoted(s.deleted)} with ${quoted(s.inserted)}`
  if (s.inserted) return `Add ${quoted(s.inserted)}`
  return `Delete ${quoted(s.deleted)}`
}

/**
 * @param {{
 *   editor: import('@tiptap/core').Editor, docId: string, before: HTMLElement,
 *   main: HTMLElement, panels: ReturnType<typeof import('../panels.js').createPanels>,
 *   me: () => string | null, people: () => Promise<Array<{id: string, display_name: string}>>,
 *   onMode: (mode: Mode) => void, onReply: () => void, margin?: HTMLElement | null,
 * }} parts
 * margin: the comment margin; the cards are shown there too, above the threads.
 */
export function mountSuggestions ({ editor, docId, before, main, margin = null, panels, me, people, onMode, onReply }) {
  /** @type {Mode} */
  let mode = 'editing'
  /** @type {Mode[]} */
  let offered = ['editing', 'suggesting', 'viewing']
  let mayDecide = false
  let mayReply = false // commenters and up: a reply is a comment thread on the suggested text
  /** @type {Map<string, string>} */
  const names = new Map()

  // ---- the mode switch: a compact picker, as in other editors ----
  const select = /** @type {HTMLSelectElement} */ (h('select', {
    class: 'mode-select', 'aria-label': 'Mode', 'data-tip': 'Editing, Suggesting or Viewing (Ctrl+Alt+Shift+S: Suggesting on/off)',
  }))
  before.before(select) // in the header's controls, first

  function show () {
    select.replaceChildren(...MODES.filter(([value]) => offered.includes(value))
      .map(([value, label, tip]) => h('option', { value, title: tip }, label)))
    select.value = mode
    select.disabled = offered.length < 2
    document.body.dataset.mode = mode
  }

  /** @param {Mode} next */
  function setMode (next) {
    if (!offered.includes(next)) return
    mode = next
    try { sessionStorage.setItem(`quire.mode:${docId}`, next) } catch { /* private mode */ }
    show()
    onMode(mode)
  }
  select.addEventListener('change', () => setMode(/** @type {Mode} */ (select.value)))

  // ---- the panel ----
  const headerButton = h('button', {
    type: 'button', id: 'suggestions-button', class: 'btn btn-header', 'aria-controls': 'suggestions-panel',
    'aria-expanded': 'false', 'aria-label': 'Suggestions', 'data-tip': 'Pending suggestions',
  }, icon('pencil'), h('span', { class: 'btn-label' }, 'Suggestions'), h('span', { class: 'count-badge', hidden: true }))
  select.after(headerButton)
  const badge = /** @type {HTMLElement} */ (headerButton.querySelector('.count-badge'))
  const who = /** @type {HTMLSelectElement} */ (h('select', { class: 'suggest-who', 'aria-label': 'Whose suggestions' }))
  const acceptAll = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'accept-all' }, 'Accept all')
  const rejectAll = h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'reject-all' }, 'Reject all')
  const list = h('ol', { class: 'suggestion-list' })
  const empty = h('p', { class: 'outline-empty' }, 'No pending suggestions. Switch to Suggesting to propose changes without making them.')
  const panel = h('aside', { id: 'suggestions-panel', class: 'suggestions side', 'aria-labelledby': 'suggestions-title' },
    h('div', { class: 'side-head' }, h('h2', { id: 'suggestions-title' }, 'Suggestions'),
      h('button', { type: 'button', class: 'btn-icon btn-small', 'aria-label': 'Close suggestions', 'data-action': 'close' }, icon('x'))),
    h('div', { class: 'suggest-bulk' }, who, acceptAll, rejectAll), list, empty)
  main.append(panel)
  // the same cards in the comment margin, above the threads
  const marginList = h('ol', { class: 'suggestion-list' })
  const marginCount = h('span', {})
  const marginSection = h('section', { class: 'margin-suggestions', 'aria-labelledby': 'margin-suggestions-title', hidden: true },
    h('h3', { id: 'margin-suggestions-title', class: 'margin-suggestions-title' }, 'Suggestions ', marginCount), marginList)
  if (margin) {
    const head = margin.querySelector('.comments-head')
    if (head) head.after(marginSection)
    else margin.prepend(marginSection)
  }
  panels.wire('suggestions', { button: headerButton, panel, closeButton: /** @type {HTMLElement} */ (panel.querySelector('[data-action="close"]')) })

  const nameOf = (/** @type {string | null} */ id) => (id && names.get(id)) || (id?.startsWith('link:') ? 'Someone with a link' : 'Someone')

  let shown = ''
  let frame = 0
  function render () {
    frame = 0
    const found = suggestionsIn(editor.state.doc)
    const self = me()
    const key = JSON.stringify([found.map((s) => [s.id, s.author, s.inserted, s.deleted]), mayDecide, mayReply, self, [...names]])
    badge.hidden = !found.length
    badge.textContent = String(found.length)
    if (key === shown) return
    shown = key
    const authors = [...new Set(found.map((s) => s.author))]
    const chosen = who.value
    who.replaceChildren(h('option', { value: '' }, 'Everyone'),
      ...authors.map((a) => h('option', { value: a || '' }, nameOf(a))))
    who.value = authors.includes(chosen) ? chosen : ''
    acceptAll.hidden = rejectAll.hidden = who.hidden = !mayDecide || !found.length
    empty.hidden = found.length > 0
    list.replaceChildren(...cards(found, self))
    marginList.replaceChildren(...cards(found, self))
    marginCount.textContent = `(${found.length})`
    marginSection.hidden = !found.length
  }
  /** A card per suggestion. @param {ReturnType<typeof suggestionsIn>} found @param {string | null} self */
  function cards (found, self) {
    return found.map((s) => {
      const mine = s.author === self
      const card = h('li', { class: 'suggestion-card', 'data-suggestion': s.id, 'data-hue': hueOf(s.author) },
        h('button', { type: 'button', class: 'suggestion-what', 'data-action': 'show' },
          h('strong', {}, `${nameOf(s.author)}: `), describe(s)),
        s.at ? h('span', { class: 'suggestion-when' }, relativeTime(new Date(Number(s.at)))) : null,
        h('div', { class: 'row' },
          mayDecide ? h('button', { type: 'button', class: 'btn btn-small btn-primary', 'data-action': 'accept', 'aria-label': `Accept: ${describe(s)}` }, 'Accept') : null,
          mayDecide ? h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'reject', 'aria-label': `Reject: ${describe(s)}` }, 'Reject') : null,
          !mayDecide && mine ? h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'reject', 'aria-label': `Withdraw: ${describe(s)}` }, 'Withdraw') : null,
          mayReply ? h('button', { type: 'button', class: 'btn btn-small btn-quiet', 'data-action': 'reply', 'aria-label': `Reply: ${describe(s)}` }, 'Reply') : null))
      return card
    })
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(render) }
  editor.on('update', schedule)
  editor.on('create', schedule)

  /** @param {MouseEvent} event */
  const clicked = (event) => {
    const target = /** @type {HTMLElement} */ (event.target)
    const action = target.closest('[data-action]')?.getAttribute('data-action')
    const id = target.closest('[data-suggestion]')?.getAttribute('data-suggestion') || null
    if (action === 'accept' && id) decide(editor, { accept: true, ids: new Set([id]) })
    if (action === 'reject' && id) decide(editor, { accept: false, ids: new Set([id]) })
    if (action === 'accept-all') decide(editor, { accept: true, author: who.value || null })
    if (action === 'reject-all') decide(editor, { accept: false, author: who.value || null })
    if ((action === 'show' || action === 'reply') && id) {
      const s = suggestionsIn(editor.state.doc).find((x) => x.id === id)
      if (s) {
        editor.view.dispatch(editor.state.tr.setSelection(TextSelection.create(editor.state.doc, s.from, s.to)).scrollIntoView())
        editor.view.focus()
        if (action === 'reply') onReply() // the comment composer, on the suggested text
      }
    }
  }
  panel.addEventListener('click', clicked)
  marginSection.addEventListener('click', clicked)

  return {
    /** What this person's role allows. @param {string | null} role */
    setRole (role) {
      mayDecide = role === 'owner' || role === 'editor'
      mayReply = mayDecide || role === 'commenter'
      offered = mayDecide ? ['editing', 'suggesting', 'viewing'] : role === 'commenter' ? ['suggesting', 'viewing'] : ['viewing']
      let saved = null
      try { saved = /** @type {Mode | null} */ (sessionStorage.getItem(`quire.mode:${docId}`)) } catch { /* private mode */ }
      const next = saved && offered.includes(saved) ? saved : offered[0]
      mode = next
      show()
      onMode(mode)
      // names: the people who can read it (commenters and up may ask), else the server's list
      const named = role === 'viewer'
        ? listSuggestions(docId).then((list) => list.map((s) => ({ id: s.author || '', display_name: s.author_name || '' })))
        : people()
      named.then((list) => {
        for (const p of list) if (p.id && p.display_name) names.set(p.id, p.display_name)
        shown = ''
        schedule()
      }, () => {})
      shown = ''
      schedule()
    },
    get mode () { return mode },
    setMode,
    /** Suggesting on and off (Ctrl+Alt+Shift+S). */
    toggle () { setMode(mode === 'suggesting' ? (offered.includes('editing') ? 'editing' : 'viewing') : 'suggesting') },
  }
}
