// Entry point of the dashboard (/): list, search, create, rename, copy, delete, import.
import { createDoc, deleteDoc, importMarkdown, listDocs, renameDoc } from '../shared/api.js'
import { loginUrl, wireSignOut } from '../shared/auth.js'
import { askCopy } from '../shared/copy-dialog.js'
import { h, icon } from '../shared/dom.js'
import { mountNotifications } from '../shared/notifications.js'
import { keepPageForOffline } from '../shared/offline.js'
import { mountAssigned } from './assigned.js'
import { hitView, latestSearch, mountPalette } from '../shared/search.js'
import { fullTime, parseServerTime, relativeTime } from '../shared/time.js'

const PAGE = 50
const REFRESH_MS = 15000
const UNTITLED = 'Untitled document'

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const list = byId('doc-list')
const empty = byId('empty')
const message = byId('dash-message')
const search = /** @type {HTMLInputElement} */ (byId('search'))
const more = byId('show-more')
const confirmDialog = /** @type {HTMLDialogElement} */ (byId('confirm-delete'))
const hitsSection = byId('search-hits')
const hitsList = byId('hit-list')
const askSearch = latestSearch()
const sortSelect = /** @type {HTMLSelectElement} */ (byId('doc-sort'))
const whoseSelect = /** @type {HTMLSelectElement} */ (byId('doc-whose'))
// the choice is remembered on this device, as in every file list
const VIEW_KEY = 'quire.dashboardView'
try {
  const saved = JSON.parse(localStorage.getItem(VIEW_KEY) || '{}')
  if (['edited', 'title', 'created'].includes(saved.sort)) sortSelect.value = saved.sort
  if (['all', 'mine', 'shared'].includes(saved.whose)) whoseSelect.value = saved.whose
} catch { /* no storage: the defaults */ }
for (const select of [sortSelect, whoseSelect]) {
  select.addEventListener('change', () => {
    try { localStorage.setItem(VIEW_KEY, JSON.stringify({ sort: sortSelect.value, whose: whoseSelect.value })) } catch { /* not kept */ }
    load()
  })
}

/** @type {import('../shared/api.js').Doc[]} */
let docs = []
let total = 0
let query = new URLSearchParams(location.search).get('q') || ''
let loadSeq = 0
/** Nothing re-renders under someone renaming or using a menu. */
let busy = false

/** @param {string} text @param {'info'|'error'} [kind] */
function say (text, kind = 'info') {
  message.textContent = text
  message.dataset.kind = kind
}

async function load ({ append = false } = {}) {
  const seq = ++loadSeq
  try {
    const page = await listDocs({
      q: query,
      limit: PAGE,
      offset: append ? docs.length : 0,
      sort: /** @type {'edited'|'title'|'created'} */ (sortSelect.value),
      whose: /** @type {'all'|'mine'|'shared'} */ (whoseSelect.value),
    })
    if (seq !== loadSeq) return // a newer search answered first
    docs = append ? docs.concat(page.items) : page.items
    total = page.total
    render()
    if (message.dataset.kind === 'error') say('')
  } catch (err) {
    if (/** @type {any} */ (err).status === 401) location.assign(loginUrl('/'))
    else if (seq === loadSeq) say(/** @type {Error} */ (err).message, 'error')
  }
}

/** Shared documents say how they are shared with you. */
const SHARED_AS = { viewer: 'Shared with you · can view', commenter: 'Shared with you · can comment', editor: 'Shared with you · can edit' }

function render () {
  if (busy || assigned.on) return // "Assigned to me" shows instead; it renders when it closes
  list.replaceChildren(...docs.map(row))
  list.setAttribute('aria-busy', 'false')
  more.hidden = docs.length >= total
  if (docs.length === 0) {
    empty.hidden = !hitsSection.hidden
    const newButton = /** @type {HTMLElement} */ (empty.querySelector('button'))
    newButton.hidden = Boolean(query)
    const shared = whoseSelect.value === 'shared'
    byId('empty-title').textContent = query ? `No documents match “${query}”` : shared ? 'Nothing is shared with you yet' : 'No documents yet'
    byId('empty-text').textContent = query
      ? 'Try another word, or clear the search.'
      : 'Create one with “New document”, or bring in an existing text with “Import Markdown”. Share its link and write together.'
  } else {
    empty.hidden = true
  }
}

/** @param {import('../shared/api.js').Doc} doc */
function row (doc) {
  const title = doc.title.trim() || UNTITLED
  const updated = parseServerTime(doc.updated_at)
  const menuId = `menu-${doc.id}`
  const role = doc.role || 'owner'
  const canRename = role === 'owner' || role === 'editor'
  const canDelete = role === 'owner'
  const sharedAs = SHARED_AS[/** @type {keyof typeof SHARED_AS} */ (role)]
  const owner = role === 'owner' ? 'You' : doc.owner_name || 'No owner'
  return h('li', { class: 'doc-row', 'data-id': doc.id, 'data-role': role },
    h('a', { class: 'doc-link', href: `/d/${encodeURIComponent(doc.id)}` },
      icon('file-text'), h('span', { class: 'doc-title' }, title),
      sharedAs ? h('span', { class: 'doc-shared' }, sharedAs) : null),
    h('span', { class: 'doc-owner', title: `Owner: ${owner}` }, icon('user'),
      h('span', { class: 'visually-hidden' }, 'Owner: '), h('span', { class: 'doc-owner-name' }, owner)),
    doc.online > 0
      ? h('span', { class: 'doc-online', title: `${doc.online} ${doc.online === 1 ? 'person is' : 'people are'} editing now` },
        h('span', { class: 'dot', 'aria-hidden': 'true' }), `${doc.online} here now`)
      : h('span', { class: 'doc-online doc-online-empty' }),
    h('time', { class: 'doc-time', datetime: updated.toISOString(), title: `Last edited ${fullTime(updated)}` },
      `Edited ${relativeTime(updated)}`),
    h('div', { class: 'row-menu' },
      h('button', {
        type: 'button', class: 'btn btn-icon', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
        'aria-controls': menuId, 'aria-label': `More actions for ${title}`, 'data-action': 'menu',
      }, icon('ellipsis')),
      h('ul', { class: 'menu', role: 'menu', id: menuId, hidden: true },
        canRename ? h('li', { role: 'none' }, h('button', { type: 'button', role: 'menuitem', 'data-action': 'rename', tabindex: '-1' }, icon('pencil'), 'Rename')) : null,
        h('li', { role: 'none' }, h('button', { type: 'button', role: 'menuitem', 'data-action': 'copy', tabindex: '-1' }, icon('copy'), 'Make a copy…')),
        canDelete ? h('li', { role: 'none' }, h('button', { type: 'button', role: 'menuitem', class: 'danger', 'data-action': 'delete', tabindex: '-1' }, icon('trash-2'), 'Delete')) : null)))
}

// ---- row menu ----
/** @type {HTMLElement | null} */
let openMenu = null

/** @param {HTMLElement} button */
function showMenu (button) {
  closeMenu()
  const menu = /** @type {HTMLElement} */ (button.nextElementSibling)
  menu.hidden = false
  button.setAttribute('aria-expanded', 'true')
  openMenu = menu
  busy = true
  const first = /** @type {HTMLElement} */ (menu.querySelector('[role=menuitem]'))
  first.focus()
}

function closeMenu (refocus = false) {
  if (!openMenu) return
  const button = /** @type {HTMLElement} */ (openMenu.previousElementSibling)
  openMenu.hidden = true
  button.setAttribute('aria-expanded', 'false')
  openMenu = null
  busy = false
  if (refocus) button.focus()
}

document.addEventListener('click', (event) => {
  const target = /** @type {HTMLElement} */ (event.target)
  if (openMenu && !openMenu.parentElement?.contains(target)) closeMenu()
})

list.addEventListener('click', (event) => {
  const target = /** @type {HTMLElement} */ (event.target).closest('[data-action]')
  if (!target) return
  const li = /** @type {HTMLElement} */ (target.closest('.doc-row'))
  const doc = docs.find((d) => d.id === li.dataset.id)
  if (!doc) return
  const action = target.getAttribute('data-action')
  if (action === 'menu') {
    if (openMenu && openMenu === target.nextElementSibling) closeMenu()
    else showMenu(/** @type {HTMLElement} */ (target))
  } else if (action === 'rename') {
    closeMenu()
    startRename(li, doc)
  } else if (action === 'copy') {
    closeMenu()
    askCopy(doc, /** @type {HTMLElement | null} */ (li.querySelector('[data-action=menu]')))
  } else if (action === 'delete') {
    closeMenu()
    askDelete(doc)
  }
})

list.addEventListener('keydown', (event) => {
  if (!openMenu) return
  const items = /** @type {HTMLElement[]} */ ([...openMenu.querySelectorAll('[role=menuitem]')])
  const index = items.indexOf(/** @type {HTMLElement} */ (document.activeElement))
  if (event.key === 'Escape') {
    event.preventDefault()
    closeMenu(true)
  } else if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
    event.preventDefault()
    const step = event.key === 'ArrowDown' ? 1 : -1
    items[(index + step + items.length) % items.length].focus()
  } else if (event.key === 'Tab') {
    closeMenu()
  }
})

// ---- rename (inline) ----
/** @param {HTMLElement} li @param {import('../shared/api.js').Doc} doc */
function startRename (li, doc) {
  busy = true
  const link = /** @type {HTMLElement} */ (li.querySelector('.doc-link'))
  const input = /** @type {HTMLInputElement} */ (h('input', {
    class: 'rename-input', type: 'text', value: doc.title, maxlength: '200', 'aria-label': 'New title',
  }))
  const form = h('form', { class: 'rename-form' }, input)
  link.replaceWith(form)
  input.focus()
  input.select()
  let done = false
  const finish = async (/** @type {boolean} */ save) => {
    if (done) return
    done = true
    const titleText = input.value.replace(/\s+/g, ' ').trim()
    form.replaceWith(link)
    busy = false
    if (save && titleText && titleText !== doc.title) {
      try {
        const updated = await renameDoc(doc.id, titleText)
        Object.assign(doc, updated)
        say(`Renamed to “${titleText}”.`)
      } catch (err) {
        say(`Could not rename: ${/** @type {Error} */ (err).message}`, 'error')
      }
    }
    render()
    const menuButton = /** @type {HTMLElement | null} */ (list.querySelector(`[data-id="${CSS.escape(doc.id)}"] [data-action=menu]`))
    menuButton?.focus()
  }
  form.addEventListener('submit', (event) => { event.preventDefault(); finish(true) })
  input.addEventListener('keydown', (event) => { if (event.key === 'Escape') { event.preventDefault(); finish(false) } })
  input.addEventListener('blur', () => finish(true))
}

// ---- delete (asks first) ----
/** @type {import('../shared/api.js').Doc | null} */
let pendingDelete = null

/** @param {import('../shared/api.js').Doc} doc */
function askDelete (doc) {
  pendingDelete = doc
  byId('confirm-title').textContent = `Delete “${doc.title.trim() || UNTITLED}”?`
  confirmDialog.returnValue = ''
  confirmDialog.showModal()
}

confirmDialog.addEventListener('close', async () => {
  const doc = pendingDelete
  pendingDelete = null
  if (!doc || confirmDialog.returnValue !== 'delete') return
  try {
    await deleteDoc(doc.id)
    docs = docs.filter((d) => d.id !== doc.id)
    total = Math.max(0, total - 1)
    render()
    say(`Deleted “${doc.title.trim() || UNTITLED}”.`)
    search.focus()
  } catch (err) {
    say(`Could not delete: ${/** @type {Error} */ (err).message}`, 'error')
  }
})

// ---- search ----
let searchTimer = 0
search.value = query
search.addEventListener('input', () => {
  clearTimeout(searchTimer)
  searchTimer = window.setTimeout(() => {
    query = search.value.trim()
    const url = new URL(location.href)
    if (query) url.searchParams.set('q', query)
    else url.searchParams.delete('q')
    history.replaceState(null, '', url)
    load()
    loadHits()
  }, 180)
})

/** Matches in the documents' text and comments (titles are the list above). */
async function loadHits () {
  if (assigned.on) return
  if (!query) {
    hitsSection.hidden = true
    hitsList.replaceChildren()
    return
  }
  try {
    const page = await askSearch(query)
    if (!page) return // a newer search answered first
    const inside = page.items.filter((hit) => hit.where !== 'title')
    hitsList.replaceChildren(...inside.map((hit) => h('li', {}, hitView(hit))))
    hitsSection.hidden = inside.length === 0
    if (inside.length) empty.hidden = true
  } catch (err) {
    if (/** @type {any} */ (err).status !== 401) say(/** @type {Error} */ (err).message, 'error')
  }
}

// ---- create / import ----
const newButtons = document.querySelectorAll('[data-action="new"]')
for (const button of newButtons) {
  button.addEventListener('click', async () => {
    button.setAttribute('aria-disabled', 'true')
    try {
      const doc = await createDoc(UNTITLED)
      location.assign(`/d/${encodeURIComponent(doc.id)}?new=1`) // the editor starts in its title
    } catch (err) {
      say(`Could not create a document: ${/** @type {Error} */ (err).message}`, 'error')
      button.removeAttribute('aria-disabled')
    }
  })
}

const fileInput = /** @type {HTMLInputElement} */ (byId('import-file'))
for (const button of document.querySelectorAll('[data-action="import"]')) {
  button.addEventListener('click', () => fileInput.click())
}
fileInput.addEventListener('change', async () => {
  const file = fileInput.files?.[0]
  fileInput.value = ''
  if (!file) return
  say(`Importing “${file.name}”…`)
  try {
    const doc = await importMarkdown(file)
    location.assign(`/d/${encodeURIComponent(doc.id)}`)
  } catch (err) {
    const status = /** @type {any} */ (err).status
    say(status === 404 || status === 405
      ? 'Importing Markdown is not available on this server yet.'
      : `Could not import “${file.name}”: ${/** @type {Error} */ (err).message}`, 'error')
  }
})

more.addEventListener('click', () => load({ append: true }))

// Keep "last edited" and "here now" fresh while the page is visible.
setInterval(() => { if (document.visibilityState === 'visible') load() }, REFRESH_MS)
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') load() })
window.addEventListener('pageshow', (event) => { if (event.persisted) load() })

// "/" focuses search, as on most list pages.
document.addEventListener('keydown', (event) => {
  if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey) return
  if (/** @type {HTMLElement} */ (event.target).closest('input, textarea, select, dialog[open]')) return
  event.preventDefault()
  search.focus()
})

const assigned = mountAssigned({
  button: /** @type {HTMLButtonElement} */ (byId('assigned-toggle')),
  section: byId('assigned'),
  list: byId('assigned-list'),
  others: [list, empty, more, hitsSection],
  closed: () => { render(); loadHits() },
})
document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') assigned.refresh() })
document.addEventListener('quire:unread', () => assigned.refresh()) // a new assignment, maybe

wireSignOut()
mountNotifications()
load()
loadHits()
mountPalette()
keepPageForOffline()
