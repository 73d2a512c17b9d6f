// Search across documents: how a hit is shown and where it leads (dashboard and palette), and
// the Ctrl/Cmd+K palette itself (every page). The server decides what matches and who may see
// it (GET /api/search); the snippet is plain text with [start, end) highlight ranges, put into
// the page as text nodes and <mark>s, never as HTML.
import { searchDocs } from './api.js'
import { h, icon } from './dom.js'

const WHERE = { title: 'Title', text: 'In the text', comment: 'In a comment' }
const DEBOUNCE_MS = 150

/**
 * Where a hit leads: the document, at the comment thread or at the first matched words.
 * @param {import('./api.js').SearchHit} hit
 */
export function hitUrl (hit) {
  const url = new URL(`/d/${encodeURIComponent(hit.doc_id)}`, location.origin)
  if (hit.where === 'comment' && hit.thread_id) url.searchParams.set('thread', hit.thread_id)
  else if (hit.where === 'text') {
    const [start, end] = hit.highlights[0] || [0, 0]
    const words = hit.snippet.slice(start, end)
    if (words) url.searchParams.set('find', words)
  }
  return url.pathname + url.search
}

/** @param {string} text @param {[number, number][]} ranges */
function marked (text, ranges) {
  /** @type {(Node|string)[]} */
  const parts = []
  let at = 0
  for (const [start, end] of ranges) {
    if (start < at || end > text.length) continue
    parts.push(text.slice(at, start), h('mark', {}, text.slice(start, end)))
    at = end
  }
  parts.push(text.slice(at))
  return parts
}

/**
 * One hit as a link (dashboard) or an option (palette).
 * @param {import('./api.js').SearchHit} hit
 * @param {Record<string, string>} [attrs]
 */
export function hitView (hit, attrs = {}) {
  const title = hit.title.trim() || 'Untitled document'
  return h('a', { class: 'hit', href: hitUrl(hit), ...attrs },
    h('span', { class: 'hit-head' },
      icon(hit.where === 'comment' ? 'message-square' : 'file-text'),
      h('span', { class: 'hit-title' }, ...(hit.where === 'title' ? marked(title, hit.highlights) : [title])),
      h('span', { class: 'hit-where' }, WHERE[hit.where] || '')),
    hit.where === 'title' ? null : h('span', { class: 'hit-snippet' }, ...marked(hit.snippet, hit.highlights)))
}

/**
 * Ask the server, dropping answers that a newer question overtook.
 * @returns {(q: string) => Promise<{items: import('./api.js').SearchHit[], total: number} | null>}
 */
export function latestSearch () {
  let seq = 0
  return async (q) => {
    const mine = ++seq
    const page = await searchDocs(q)
    return mine === seq ? page : null
  }
}

/**
 * The Ctrl/Cmd+K palette: search every document you can read from anywhere, keyboard first.
 * Inside a document's text Ctrl/Cmd+K adds a link, as in every word processor: there (and
 * anywhere) Ctrl/Cmd+Shift+K opens the palette.
 */
export function mountPalette () {
  const input = /** @type {HTMLInputElement} */ (h('input', {
    type: 'search', class: 'palette-input', placeholder: 'Search all documents', autocomplete: 'off',
    spellcheck: 'false', role: 'combobox', 'aria-expanded': 'false', 'aria-controls': 'palette-results',
    'aria-autocomplete': 'list', 'aria-label': 'Search all documents',
  }))
  const list = h('ul', { id: 'palette-results', class: 'palette-results', role: 'listbox', 'aria-label': 'Matches' })
  const status = h('p', { class: 'palette-status', role: 'status', 'aria-live': 'polite' })
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'palette', 'aria-label': 'Search all documents' },
    h('div', { class: 'palette-field' }, icon('search'), input), status, list,
    h('p', { class: 'palette-keys', 'aria-hidden': 'true' }, '↑↓ to choose · Enter to open · Esc to close')))
  document.body.append(dialog)
  const ask = latestSearch()
  /** @type {import('./api.js').SearchHit[]} */
  let hits = []
  let current = -1
  let timer = 0
  /** @type {HTMLElement | null} */
  let opener = null

  function select (/** @type {number} */ index) {
    current = hits.length ? (index + hits.length) % hits.length : -1
    list.querySelectorAll('[role=option]').forEach((option, i) => option.setAttribute('aria-selected', String(i === current)))
    const chosen = current >= 0 ? list.children[current] : null
    if (chosen) {
      input.setAttribute('aria-activedescendant', chosen.id)
      chosen.scrollIntoView({ block: 'nearest' })
    } else input.removeAttribute('aria-activedescendant')
  }

  function render (/** @type {string} */ q, /** @type {number} */ total) {
    list.replaceChildren(...hits.map((hit, i) => h('li', { role: 'option', id: `palette-hit-${i}`, 'aria-selected': 'false' },
      hitView(hit, { tabindex: '-1' }))))
    input.setAttribute('aria-expanded', String(hits.length > 0))
    status.textContent = !q ? '' : total === 0 ? `Nothing matches “${q}”.` : `${total} ${total === 1 ? 'match' : 'matches'}`
    select(0)
  }

  async function run () {
    const q = input.value.trim()
    if (!q) { hits = []; render('', 0); return }
    try {
      const page = await ask(q)
      if (!page) return
      hits = page.items
      render(q, page.total)
    } catch (err) {
      hits = []
      render('', 0)
      status.textContent = /** @type {Error} */ (err).message
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer)
    timer = window.setTimeout(run, DEBOUNCE_MS)
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      select(current + (event.key === 'ArrowDown' ? 1 : -1))
    } else if (event.key === 'Enter') {
      event.preventDefault()
      const hit = hits[current]
      if (hit) location.assign(hitUrl(hit))
    }
  })
  list.addEventListener('mousemove', (event) => {
    const option = /** @type {HTMLElement} */ (event.target).closest('[role=option]')
    if (option) select([...list.children].indexOf(option))
  })
  dialog.addEventListener('close', () => opener?.focus())

  function open () {
    opener = /** @type {HTMLElement | null} */ (document.activeElement)
    if (!dialog.open) dialog.showModal()
    input.select()
  }

  document.addEventListener('keydown', (event) => {
    if (!(event.ctrlKey || event.metaKey) || event.altKey || event.key.toLowerCase() !== 'k') return
    const inText = /** @type {HTMLElement} */ (event.target).closest?.('.ProseMirror')
    if (inText && !event.shiftKey) return // the link dialog
    event.preventDefault()
    event.stopPropagation()
    open()
  }, true)
  return { open }
}
