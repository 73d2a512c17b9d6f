// Version history: a panel on the right (opened from the header) listing the document's
// versions — named ones first — with "Name current version"; choosing one shows it read-only in
// place of the editor with its differences from the current document marked, and "Restore this
// version" (after a confirmation) asks the server to apply it as a new change for everyone.
import { getVersion, listVersions, nameVersion, restoreVersion } from '../shared/api.js'
import { h, icon } from '../shared/dom.js'
import { personLabel, sharedNames } from '../shared/identity.js'
import { fullTime, parseServerTime, relativeTime } from '../shared/time.js'
import { diffStats } from './version-diff.js'
import { renderVersion } from './version-view.js'

const PAGE = 30
const REFRESH_AFTER_EDIT_MS = 800

/** @typedef {import('../shared/api.js').Version} Version */

/** @param {Version} version */
function versionTitle (version) {
  if (version.name) return version.name
  return fullTime(parseServerTime(version.created_at))
}

/** Who edited: `people` (id and username; older servers send only `authors`, names). @param {Version} version */
function authorsOf (version) {
  return version.people ?? version.authors.map((name) => ({ id: null, name, username: null }))
}

/**
 * When, and who edited — with usernames where two of the authors in the history share a
 * display name ("Alex Kim @alexk, Alex Kim @alexk2").
 * @param {Version} version @param {Set<string>} shared names shared by two people (sharedNames)
 */
function versionMeta (version, shared) {
  const when = relativeTime(parseServerTime(version.created_at))
  const who = authorsOf(version).map((p) => personLabel(p, shared)).join(', ')
  return who ? `${when} · ${who}` : when
}

/**
 * @param {{
 *   docId: string,
 *   doc: import('yjs').Doc,
 *   editor: import('@tiptap/core').Editor,
 *   panels: ReturnType<typeof import('./panels.js').createPanels>,
 *   button: HTMLElement,
 *   panel: HTMLElement,
 *   preview: HTMLElement,
 *   canEdit?: () => boolean,
 *   authors?: {colourClass: (account: string) => string} | null,
 * }} options
 * canEdit: whether this person may name and restore versions (editors and owners); others
 * only look.
 */
export function mountHistory ({ docId, doc, editor, panels, button, panel, preview, canEdit = () => true, authors = null }) {
  /** @type {Version[]} */
  let versions = []
  let total = 0
  /** @type {number | null} */
  let selected = null
  let loading = false

  // ---- the panel ----
  const closeButton = h('button', { type: 'button', class: 'btn-icon btn-small', 'aria-label': 'Close version history', 'data-tip': 'Close' }, icon('x'))
  const nameToggle = h('button', { type: 'button', class: 'btn btn-small' }, icon('plus'), 'Name current version')
  const nameInput = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', maxlength: '200', autocomplete: 'off', placeholder: 'e.g. Sent to legal', 'aria-label': 'Version name',
  }))
  const nameForm = h('form', { class: 'name-version', hidden: true },
    nameInput,
    h('div', { class: 'row' },
      h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'data-action': 'cancel' }, 'Cancel'),
      h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, 'Save')))
  const status = h('p', { class: 'history-status', role: 'status', 'aria-live': 'polite' })
  const namedList = h('ul', { class: 'version-list', 'aria-labelledby': 'named-versions-title' })
  const namedSection = h('section', { class: 'version-group', hidden: true },
    h('h3', { id: 'named-versions-title' }, 'Named versions'), namedList)
  const allList = h('ul', { class: 'version-list', 'aria-labelledby': 'all-versions-title' })
  const allSection = h('section', { class: 'version-group', hidden: true },
    h('h3', { id: 'all-versions-title' }, 'Earlier versions'), allList)
  const more = h('button', { type: 'button', class: 'btn btn-small show-more', hidden: true }, 'Load more')
  const empty = h('p', { class: 'history-empty', hidden: true },
    'No versions yet. Quire keeps one a few seconds after people stop typing. Name the current one to find it again easily.')
  panel.replaceChildren(
    h('div', { class: 'side-head' }, h('h2', { id: 'history-title' }, 'Version history'), closeButton),
    h('div', { class: 'history-actions' }, nameToggle, nameForm),
    status, namedSection, allSection, empty, more)

  /** @param {string} text @param {'error' | 'ok'} [kind] */
  function say (text, kind = 'ok') {
    status.textContent = text
    status.dataset.kind = kind
  }

  async function load (reset = true) {
    if (loading) return
    loading = true
    panel.setAttribute('aria-busy', 'true')
    try {
      const page = await listVersions(docId, { limit: PAGE, offset: reset ? 0 : versions.length })
      const known = new Set(reset ? [] : versions.map((v) => v.id))
      versions = [...(reset ? [] : versions), ...page.items.filter((v) => !known.has(v.id))]
      total = page.total
      renderList()
    } catch (err) {
      say(`Could not load the versions: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      loading = false
      panel.removeAttribute('aria-busy')
    }
  }

  /** Names two people in the loaded history share. */
  const sharedAuthors = () => sharedNames(versions.flatMap(authorsOf))

  /** @param {Version} version @param {Set<string>} shared */
  function row (version, shared) {
    const item = h('button', {
      type: 'button',
      class: `version-item kind-${version.kind}`,
      'aria-pressed': String(version.id === selected),
      'data-version-id': String(version.id),
      title: fullTime(parseServerTime(version.created_at)),
    },
    version.kind === 'named' ? icon('check') : version.kind === 'restore' ? icon('rotate-ccw') : null,
    h('span', { class: 'version-name' }, versionTitle(version)),
    h('span', { class: 'version-meta' }, versionMeta(version, shared)))
    return h('li', {}, item)
  }

  function renderList () {
    const named = versions.filter((v) => v.kind === 'named')
    const others = versions.filter((v) => v.kind !== 'named')
    const shared = sharedAuthors()
    namedList.replaceChildren(...named.map((v) => row(v, shared)))
    allList.replaceChildren(...others.map((v) => row(v, shared)))
    namedSection.hidden = named.length === 0
    allSection.hidden = others.length === 0
    empty.hidden = versions.length > 0
    more.hidden = versions.length >= total
  }

  panel.addEventListener('click', (event) => {
    const item = /** @type {HTMLElement} */ (event.target).closest('.version-item')
    if (item) show(Number(item.dataset.versionId))
  })
  more.addEventListener('click', () => load(false))

  nameToggle.addEventListener('click', () => {
    nameForm.hidden = false
    nameToggle.hidden = true
    nameInput.value = ''
    nameInput.focus()
  })
  const closeNameForm = () => {
    nameForm.hidden = true
    nameToggle.hidden = !canEdit()
  }
  nameForm.addEventListener('click', (event) => {
    if (/** @type {HTMLElement} */ (event.target).closest('[data-action="cancel"]')) {
      closeNameForm()
      nameToggle.focus()
    }
  })
  nameInput.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      closeNameForm()
      nameToggle.focus()
    }
  })
  nameForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const name = nameInput.value.replace(/\s+/g, ' ').trim()
    if (!name) {
      nameInput.focus()
      return
    }
    try {
      const version = await nameVersion(docId, name)
      closeNameForm()
      say(`Saved the current text as “${version.name}”.`)
      await load()
      nameToggle.focus()
    } catch (err) {
      say(`Could not name this version: ${/** @type {Error} */ (err).message}`, 'error')
    }
  })

  // ---- the preview (in place of the editor) ----
  const banner = h('div', { class: 'version-banner' })
  const body = h('div', { class: 'doc version-doc' })
  preview.replaceChildren(banner, body)
  /** @type {{destroy: () => void} | null} */
  let rendered = null
  let request = 0

  /** @param {number} versionId */
  async function show (versionId, { quiet = false } = {}) {
    selected = versionId
    for (const item of panel.querySelectorAll('.version-item')) {
      item.setAttribute('aria-pressed', String(Number(/** @type {HTMLElement} */ (item).dataset.versionId) === versionId))
    }
    const mine = ++request
    if (!quiet) preview.setAttribute('aria-busy', 'true')
    try {
      const detail = await getVersion(docId, versionId)
      if (mine !== request || selected !== versionId) return // another choice came since
      rendered?.destroy()
      rendered = renderVersion(body, editor.schema, detail, editor.state.doc, authors)
      renderBanner(detail)
      preview.hidden = false
      document.body.classList.add('is-previewing')
    } catch (err) {
      if (mine === request) say(`Could not show this version: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      if (mine === request) preview.removeAttribute('aria-busy')
    }
  }

  /** @param {import('../shared/api.js').VersionDetail} detail */
  function renderBanner (detail) {
    const stats = diffStats(detail.diff)
    const summary = stats.same
      ? 'Same text as the current document.'
      : `${stats.added} word${stats.added === 1 ? '' : 's'} only in this version, ${stats.removed} only in the current document.`
    const restore = h('button', { type: 'button', class: 'btn btn-primary', 'data-action': 'restore', hidden: !canEdit() }, icon('rotate-ccw'), 'Restore this version')
    const back = h('button', { type: 'button', class: 'btn', 'data-action': 'back' }, icon('arrow-left'), 'Back to the document')
    // On a narrow screen the list is a drawer hidden while a version is shown: a way back to it.
    const list = h('button', { type: 'button', class: 'btn narrow-only', 'data-action': 'list' }, icon('history'), 'Versions')
    restore.addEventListener('click', () => confirmRestore(detail))
    back.addEventListener('click', () => {
      if (panels.wide) closePreview(true)
      else {
        panels.close('history') // closes the preview too
        editor.commands.focus()
      }
    })
    list.addEventListener('click', () => {
      const current = panel.querySelector(`.version-item[data-version-id="${detail.id}"]`)
      closePreview(false)
      ;/** @type {HTMLElement | null} */ (current)?.focus()
    })
    banner.replaceChildren(
      h('div', { class: 'version-banner-text' },
        h('h2', {}, versionTitle(detail)),
        h('p', {}, `${versionMeta(detail, sharedNames([...versions, detail].flatMap(authorsOf)))} · read-only`),
        h('p', { class: 'version-legend' },
          h('ins', { class: 'diff-ins' }, 'Highlighted'), ': only in this version · ',
          h('del', { class: 'diff-del' }, 'struck through'), ': only in the current document'),
        h('p', { class: 'version-summary' }, summary)),
      h('div', { class: 'row' }, list, back, restore))
  }

  /** @param {boolean} refocus */
  function closePreview (refocus) {
    request++
    selected = null
    rendered?.destroy()
    rendered = null
    preview.hidden = true
    document.body.classList.remove('is-previewing')
    for (const item of panel.querySelectorAll('.version-item')) item.setAttribute('aria-pressed', 'false')
    if (refocus) editor.commands.focus()
  }

  // While a version is shown, keep its marks true to the current document as people type.
  let refreshTimer = 0
  doc.on('update', () => {
    if (selected === null) return
    clearTimeout(refreshTimer)
    const versionId = selected
    refreshTimer = window.setTimeout(() => { if (selected === versionId) show(versionId, { quiet: true }) }, REFRESH_AFTER_EDIT_MS)
  })

  // ---- restore ----
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'confirm', 'aria-labelledby': 'restore-title' }))
  document.body.append(dialog)

  /** @param {import('../shared/api.js').VersionDetail} detail */
  function confirmRestore (detail) {
    const title = versionTitle(detail)
    const form = h('form', { method: 'dialog' },
      h('h2', { id: 'restore-title' }, `Restore “${title}”?`),
      h('p', {}, 'The document changes to this version for everyone editing it. The current text is kept as a version first, so you can go back to it.'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn', value: 'cancel', autofocus: true }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-primary', value: 'restore' }, 'Restore')))
    dialog.replaceChildren(form)
    dialog.returnValue = ''
    dialog.addEventListener('close', async () => {
      if (dialog.returnValue !== 'restore') return
      say(`Restoring “${title}”…`)
      try {
        const result = await restoreVersion(docId, detail.id)
        closePreview(true)
        say(`Restored “${title}”. The text from before is kept as “${result.before.name || versionTitle(result.before)}”.`)
        await load()
      } catch (err) {
        say(`Could not restore this version: ${/** @type {Error} */ (err).message}`, 'error')
      }
    }, { once: true })
    dialog.showModal()
  }

  // ---- opening and closing ----
  panels.wire('history', { button, panel, closeButton, onChange: (open) => {
    if (open && !panel.dataset.shown) {
      panel.dataset.shown = '1'
      say('')
      closeNameForm() // shows "Name current version" to those who may
      load().then(() => {
        const first = /** @type {HTMLElement | null} */ (panel.querySelector('.version-item'))
        ;(first || (nameToggle.hidden ? closeButton : nameToggle)).focus()
      })
    }
    if (!open) {
      delete panel.dataset.shown
      closeNameForm()
      if (selected !== null) closePreview(false)
    }
  } })
}
