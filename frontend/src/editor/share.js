// The Share panel (the owner's, and editors' when the owner lets them), on the right like
// History: invite an account with a role, make a share link with a role and an optional expiry
// (shown once, with a copy button), see who has access, and take access back (after a
// confirmation). The owner also decides whether editors can share. The server closes the live
// connections of whoever loses access at once.
import { createShareLink, inviteToDoc, listShares, revokeShare, setEditorsCanShare } from '../shared/api.js'
import { h, icon } from '../shared/dom.js'
import { fullTime, parseServerTime } from '../shared/time.js'

/** @typedef {import('../shared/api.js').Share} Share */

export const ROLES = /** @type {const} */ ([
  { value: 'viewer', label: 'Can view', hint: 'read only' },
  { value: 'commenter', label: 'Can comment', hint: 'read and comment' },
  { value: 'editor', label: 'Can edit', hint: 'read, write and comment' },
])

const EXPIRIES = [
  { value: '', label: 'Never' },
  { value: '1', label: 'After 1 day' },
  { value: '7', label: 'After 7 days' },
  { value: '30', label: 'After 30 days' },
]

/** @param {string} role */
export function roleLabel (role) {
  return ROLES.find((r) => r.value === role)?.label || role
}

/**
 * "Never expires", "Expires 3 Dec 2026, 14:00", "Expired".
 * @param {string | null} expiresAt @param {number} [now]
 */
export function expiryText (expiresAt, now = Date.now()) {
  if (!expiresAt) return 'No end date'
  const when = parseServerTime(expiresAt)
  return when.getTime() <= now ? 'Expired' : `Until ${fullTime(when)}`
}

let uid = 0

/**
 * A labelled <select>.
 * @param {string} label @param {string} name @param {ReadonlyArray<{value: string, label: string}>} options @param {string} value
 */
function selectField (label, name, options, value) {
  const id = `share-${name}-${++uid}`
  const select = /** @type {HTMLSelectElement} */ (h('select', { id, name },
    ...options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label))))
  return h('div', { class: 'field' }, h('label', { for: id }, label), select)
}

/**
 * @param {{
 *   docId: string,
 *   panels: ReturnType<typeof import('./panels.js').createPanels>,
 *   button: HTMLElement,
 *   panel: HTMLElement,
 * }} options
 * @returns {{setAvailable: (allowed: boolean, settings?: {owner?: boolean, editorsCanShare?: boolean}) => void}}
 */
export function mountShare ({ docId, panels, button, panel }) {
  /** @type {Share[]} */
  let shares = []
  let available = false

  // ---- invite an account ----
  const usernameInput = /** @type {HTMLInputElement} */ (h('input', {
    id: 'share-username', name: 'username', type: 'text', required: true, maxlength: '64',
    autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', 'aria-describedby': 'share-invite-error',
  }))
  const inviteError = h('p', { class: 'field-error', id: 'share-invite-error', role: 'alert' })
  const inviteForm = /** @type {HTMLFormElement} */ (h('form', { class: 'share-form', 'aria-labelledby': 'share-invite-title', novalidate: true },
    h('h3', { id: 'share-invite-title' }, 'Invite someone with an account'),
    h('div', { class: 'field' }, h('label', { for: 'share-username' }, 'Username'), usernameInput),
    h('div', { class: 'share-row' },
      selectField('Role', 'role', ROLES, 'editor'),
      selectField('Access ends', 'expires', EXPIRIES, '')),
    inviteError,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-primary btn-small' }, icon('user-plus'), 'Invite'))))

  // ---- share links ----
  const linkOutput = /** @type {HTMLInputElement} */ (h('input', {
    id: 'share-new-link', type: 'text', readonly: true, spellcheck: 'false', 'aria-describedby': 'share-new-link-note',
  }))
  const copyButton = h('button', { type: 'button', class: 'btn btn-small', 'data-action': 'copy' }, icon('copy'), 'Copy link')
  const newLink = h('div', { class: 'new-link', hidden: true },
    h('div', { class: 'field' }, h('label', { for: 'share-new-link' }, 'New link'), linkOutput),
    h('p', { class: 'share-note', id: 'share-new-link-note' }, 'Copy it now: for safety it is shown only once. Anyone who has it can open this document with its role.'),
    h('div', { class: 'row' }, copyButton))
  const linkError = h('p', { class: 'field-error', role: 'alert' })
  const labelInput = /** @type {HTMLInputElement} */ (h('input', {
    id: 'share-link-label', name: 'label', type: 'text', maxlength: '100', autocomplete: 'off', placeholder: 'e.g. Legal team',
  }))
  const linkForm = /** @type {HTMLFormElement} */ (h('form', { class: 'share-form', 'aria-labelledby': 'share-link-title', novalidate: true },
    h('h3', { id: 'share-link-title' }, 'Share a link'),
    h('div', { class: 'field' }, h('label', { for: 'share-link-label' }, 'Name (optional)'), labelInput),
    h('div', { class: 'share-row' },
      selectField('Role', 'role', ROLES, 'viewer'),
      selectField('Link stops working', 'expires', EXPIRIES, '')),
    linkError,
    h('div', { class: 'row' }, h('button', { type: 'submit', class: 'btn btn-small' }, icon('link'), 'Create link')),
    newLink))

  // ---- who has access ----
  const list = h('ul', { class: 'share-list', 'aria-labelledby': 'share-access-title' })
  const empty = h('p', { class: 'share-empty', hidden: true }, 'Only you so far.')
  const status = h('p', { class: 'share-status', role: 'status', 'aria-live': 'polite' })
  const closeButton = h('button', { type: 'button', class: 'btn-icon btn-small', 'aria-label': 'Close sharing', 'data-tip': 'Close' }, icon('x'))

  // ---- the owner's setting: may editors share too? ----
  const editorsShare = /** @type {HTMLInputElement} */ (h('input', { id: 'share-editors', type: 'checkbox', 'aria-describedby': 'share-editors-note' }))
  const settings = h('section', { class: 'share-settings', 'aria-labelledby': 'share-settings-title', hidden: true },
    h('h3', { id: 'share-settings-title' }, 'Settings'),
    h('label', { class: 'check', for: 'share-editors' }, editorsShare, 'Editors can share'),
    h('p', { class: 'share-note', id: 'share-editors-note' }, 'People who can edit may then invite others and make links, as editors at most. Only you change this.'))

  panel.replaceChildren(
    h('div', { class: 'side-head' }, h('h2', { id: 'share-title' }, 'Share'), closeButton),
    status,
    inviteForm,
    h('section', { class: 'share-access' }, h('h3', { id: 'share-access-title' }, 'Who has access'), empty, list),
    settings,
    linkForm)

  editorsShare.addEventListener('change', async () => {
    const allowed = editorsShare.checked
    editorsShare.disabled = true
    try {
      const doc = await setEditorsCanShare(docId, allowed)
      editorsShare.checked = Boolean(doc.editors_can_share)
      say(editorsShare.checked ? 'Editors can share now.' : 'Only you can share now.')
    } catch (err) {
      editorsShare.checked = !allowed
      say(`Could not change who can share: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      editorsShare.disabled = false
    }
  })

  /** @param {string} text @param {'ok' | 'error'} [kind] */
  function say (text, kind = 'ok') {
    status.textContent = text
    status.dataset.kind = kind
  }

  /** @param {HTMLFormElement} form */
  function choices (form) {
    const data = new FormData(form)
    const days = String(data.get('expires') || '')
    return { role: String(data.get('role')), expires_in_days: days ? Number(days) : null }
  }

  inviteForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    const username = usernameInput.value.trim()
    inviteError.textContent = ''
    if (!username) {
      inviteError.textContent = 'Type the username of the person to invite.'
      usernameInput.focus()
      return
    }
    const { role, expires_in_days } = choices(inviteForm)
    try {
      const share = await inviteToDoc(docId, { username, role, expires_in_days })
      usernameInput.value = ''
      say(`${share.display_name || share.username} ${roleLabel(share.role).toLowerCase()} now.`)
      await load()
      usernameInput.focus()
    } catch (err) {
      inviteError.textContent = `Could not invite “${username}”: ${/** @type {Error} */ (err).message}`
      usernameInput.focus()
    }
  })

  linkForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    linkError.textContent = ''
    try {
      const label = labelInput.value.replace(/\s+/g, ' ').trim() || null
      const link = await createShareLink(docId, { ...choices(linkForm), label })
      labelInput.value = ''
      linkOutput.value = link.url
      newLink.hidden = false
      linkOutput.focus()
      linkOutput.select()
      say(`Link created: ${roleLabel(link.role).toLowerCase()}.`)
      await load()
    } catch (err) {
      linkError.textContent = `Could not create a link: ${/** @type {Error} */ (err).message}`
    }
  })

  copyButton.addEventListener('click', async () => {
    const text = linkOutput.value
    try {
      await navigator.clipboard.writeText(text)
      say('Link copied.')
    } catch {
      // no clipboard permission (or not a secure context): the older way, from the selection
      linkOutput.focus()
      linkOutput.select()
      const copied = document.execCommand('copy')
      say(copied ? 'Link copied.' : 'Press Ctrl+C (⌘C) to copy the selected link.', copied ? 'ok' : 'error')
    }
  })

  /** @param {Share} share */
  function who (share) {
    if (share.kind === 'user') {
      const name = share.display_name || share.username || 'Someone'
      return { title: name, sub: share.username && share.username !== name ? `@${share.username}` : '', icon: 'user' }
    }
    return { title: share.label ? `Link: ${share.label}` : 'Share link', sub: `made ${fullTime(parseServerTime(share.created_at))}`, icon: 'link' }
  }

  /** @param {Share} share */
  function row (share) {
    const person = who(share)
    const expired = expiryText(share.expires_at) === 'Expired'
    const remove = h('button', {
      type: 'button',
      class: 'btn btn-quiet btn-small share-remove',
      'data-share-id': share.id,
      'aria-label': share.kind === 'user'
        ? `Remove access for ${person.title}`
        : `Revoke the link ${share.label ? `“${share.label}”` : person.sub} (${roleLabel(share.role).toLowerCase()})`,
    }, share.kind === 'user' ? 'Remove' : 'Revoke')
    return h('li', { class: `share-item kind-${share.kind}${expired ? ' is-expired' : ''}`, 'data-share-id': share.id },
      icon(person.icon),
      h('div', { class: 'share-who' },
        h('span', { class: 'share-name' }, person.title),
        person.sub ? h('span', { class: 'share-sub' }, person.sub) : null,
        h('span', { class: 'share-meta' },
          h('span', { class: 'share-role', 'data-role': share.role }, roleLabel(share.role)), ' · ', expiryText(share.expires_at))),
      remove)
  }

  async function load () {
    panel.setAttribute('aria-busy', 'true')
    try {
      shares = await listShares(docId)
      list.replaceChildren(...shares.map(row))
      empty.hidden = shares.length > 0
    } catch (err) {
      say(`Could not load who has access: ${/** @type {Error} */ (err).message}`, 'error')
    } finally {
      panel.removeAttribute('aria-busy')
    }
  }

  // ---- revoke (asks first) ----
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { class: 'confirm', 'aria-labelledby': 'revoke-title', 'aria-describedby': 'revoke-text' }))
  document.body.append(dialog)

  list.addEventListener('click', (event) => {
    const target = /** @type {HTMLElement} */ (event.target).closest('.share-remove')
    const share = target && shares.find((s) => s.id === /** @type {HTMLElement} */ (target).dataset.shareId)
    if (share) confirmRevoke(share)
  })

  /** @param {Share} share */
  function confirmRevoke (share) {
    const person = who(share)
    const isUser = share.kind === 'user'
    dialog.replaceChildren(h('form', { method: 'dialog' },
      h('h2', { id: 'revoke-title' }, isUser ? `Remove access for ${person.title}?` : 'Revoke this link?'),
      h('p', { id: 'revoke-text' }, isUser
        ? 'They can no longer open this document. If they have it open now, it stops updating for them at once.'
        : 'The link stops working for everyone who has it. Pages opened with it stop updating at once.'),
      h('div', { class: 'row' },
        h('button', { type: 'submit', class: 'btn', value: 'cancel', autofocus: true }, 'Cancel'),
        h('button', { type: 'submit', class: 'btn btn-danger', value: 'revoke' }, isUser ? 'Remove access' : 'Revoke link'))))
    dialog.returnValue = ''
    dialog.addEventListener('close', async () => {
      if (dialog.returnValue !== 'revoke') return
      try {
        await revokeShare(docId, share.id)
        say(isUser ? `${person.title} no longer has access.` : 'Link revoked. It no longer works.')
        const index = shares.findIndex((s) => s.id === share.id)
        await load()
        // keep the keyboard where it was: the next row's button, or the panel heading area
        const buttons = /** @type {HTMLElement[]} */ ([...list.querySelectorAll('.share-remove')])
        ;(buttons[Math.min(index, buttons.length - 1)] || closeButton).focus()
      } catch (err) {
        say(`Could not take access back: ${/** @type {Error} */ (err).message}`, 'error')
      }
    }, { once: true })
    dialog.showModal()
  }

  // ---- opening and closing ----
  panels.wire('share', { button, panel, closeButton, onChange: (open) => {
    if (open && !panel.dataset.shown) {
      panel.dataset.shown = '1'
      say('')
      inviteError.textContent = ''
      linkError.textContent = ''
      newLink.hidden = true
      linkOutput.value = ''
      usernameInput.focus()
      load()
    }
    if (!open) delete panel.dataset.shown
  } })

  return {
    /**
     * Whether this person may share (the owner; an editor when the owner lets editors share):
     * for anyone else the button and the panel go away. The owner also sees the setting.
     */
    setAvailable (allowed, { owner = false, editorsCanShare = false } = {}) {
      settings.hidden = !owner
      if (!editorsShare.disabled) editorsShare.checked = editorsCanShare
      if (allowed === available) return
      available = allowed
      button.hidden = !allowed
      if (!allowed && panels.isOpen('share')) panels.close('share')
    },
  }
}
