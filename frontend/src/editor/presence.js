// Who is here: the local identity in awareness, a row of avatars, and the first-visit name card.
// Where two people here share a display name, their tooltips add the username ("Alex Kim
// @alexk"; "(guest)" for a share-link visitor without an account).
import { h } from '../shared/dom.js'
import { PALETTE, initials, personLabel, saveIdentity, sharedNames } from '../shared/identity.js'
import { textColorOn } from './carets.js'

const MAX_AVATARS = 6

/**
 * @param {{
 *   awareness: import('y-protocols/awareness').Awareness,
 *   editor: import('@tiptap/core').Editor,
 *   identity: import('../shared/identity.js').Identity,
 *   avatars: HTMLElement,
 *   cardSlot: HTMLElement,
 *   accounts?: boolean,
 * }} options
 * accounts: the server has accounts on (a name without a username is then a guest's).
 */
export function mountPresence ({ awareness, editor, identity, avatars, cardSlot, accounts = true }) {
  // The colour shown this session; it differs from identity.color only if someone already here
  // has ours (the person who came first keeps it).
  let sessionColor = identity.color

  const me = () => ({ name: identity.name, color: sessionColor, username: identity.username ?? null })
  const announce = () => editor.commands.updateUser(me())

  /** Pick a colour nobody else here uses when an earlier arrival has ours. */
  function resolveColorClash () {
    const taken = new Set()
    let clash = false
    for (const [client, state] of awareness.getStates()) {
      if (client === awareness.clientID || !state?.user) continue
      taken.add(state.user.color)
      if (state.user.color === sessionColor && client < awareness.clientID) clash = true
    }
    if (!clash) return
    const free = PALETTE.filter((c) => !taken.has(c))
    const preferred = free.includes(identity.color) ? identity.color : free[0]
    if (preferred && preferred !== sessionColor) {
      sessionColor = preferred
      announce()
    }
  }

  /** @typedef {{name: string, color: string, username: string | null, guest: boolean, self: boolean, key: string}} Here */

  /** One entry per person: an account once however many tabs it has open. @param {any} user @param {boolean} self @returns {Here} */
  function here (user, self) {
    const username = typeof user.username === 'string' && user.username ? user.username : null
    const key = username ? `@${username}` : `${user.name}\u0000${user.color}`
    return { name: user.name, color: user.color, username, guest: !username && accounts, self, key }
  }

  function people () {
    /** @type {Map<string, Here>} */
    const seen = new Map()
    const self = awareness.getLocalState()?.user
    if (self) seen.set(here(self, true).key, here(self, true))
    for (const [client, state] of awareness.getStates()) {
      const user = state?.user
      if (client === awareness.clientID || !user || typeof user.name !== 'string') continue
      const person = here(user, false)
      if (!seen.has(person.key)) seen.set(person.key, person)
    }
    return [...seen.values()]
  }

  function renderAvatars () {
    const list = people()
    const shared = sharedNames(list, (p) => p.key)
    const shown = list.slice(0, MAX_AVATARS)
    const items = shown.map((person) => {
      // Signed in, your name is your account's: your own avatar is a label, not a button.
      const fixed = person.self && identity.account
      const name = personLabel(person, shared)
      const label = fixed
        ? `${name} (you)`
        : person.self ? `${name} (you) — change your name` : `${name} — go to their cursor`
      // A button's name is its text: the initials are drawn (and hidden from assistive tech),
      // the full sentence is read (an aria-label would not contain the visible initials: WCAG
      // 2.5.3, axe's label-content-name-mismatch). Your own fixed avatar is an image, named.
      const button = h(fixed ? 'span' : 'button', {
        type: fixed ? null : 'button',
        role: fixed ? 'img' : null,
        tabindex: fixed ? '0' : null,
        class: person.self ? 'avatar avatar-self' : 'avatar',
        'aria-label': fixed ? label : null,
        'data-tip': person.self ? `${name} (you)` : name,
        'data-name': person.name,
        'data-color': person.color,
      }, ...(fixed ? [initials(person.name)]
        : [h('span', { 'aria-hidden': 'true' }, initials(person.name)), h('span', { class: 'visually-hidden' }, label)]))
      button.style.backgroundColor = person.color
      button.style.color = textColorOn(person.color)
      return h('li', {}, button)
    })
    if (list.length > shown.length) {
      const rest = list.slice(MAX_AVATARS).map((p) => personLabel(p, shared)).join(', ')
      items.push(h('li', {}, h('span', { class: 'avatar avatar-more', 'data-tip': rest, tabindex: '0', 'aria-label': `and ${rest}` }, `+${list.length - shown.length}`)))
    }
    avatars.replaceChildren(...items)
    avatars.setAttribute('aria-label', `${list.length} ${list.length === 1 ? 'person' : 'people'} here`)
  }

  avatars.addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button.avatar')
    if (!button) return
    if (button.classList.contains('avatar-self')) {
      showNameCard(true)
      return
    }
    const { name, color } = button.dataset
    const caret = [...document.querySelectorAll('.collaboration-carets__caret')]
      .find((el) => /** @type {HTMLElement} */ (el).dataset.name === name && /** @type {HTMLElement} */ (el).dataset.color === color)
    if (caret) {
      caret.scrollIntoView({ block: 'center', behavior: 'smooth' })
      caret.classList.remove('caret-flash')
      void (/** @type {HTMLElement} */ (caret).offsetWidth) // restart the animation
      caret.classList.add('caret-flash')
    }
  })

  let frame = 0
  awareness.on('change', () => {
    resolveColorClash()
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; renderAvatars() })
  })

  // ---- the first-visit name card (inline, never modal) ----
  /** @param {boolean} focus */
  function showNameCard (focus) {
    if (cardSlot.firstChild) {
      cardSlot.querySelector('input')?.focus()
      return
    }
    const input = /** @type {HTMLInputElement} */ (h('input', {
      id: 'name-input', type: 'text', maxlength: '40', autocomplete: 'name', required: true,
      value: identity.chosen ? identity.name : '', placeholder: 'Your name',
    }))
    const form = h('form', { class: 'name-card', 'aria-labelledby': 'name-card-title' },
      h('div', { class: 'name-card-text' },
        h('label', { id: 'name-card-title', for: 'name-input' }, identity.chosen ? 'Change your name' : 'What name should others see?'),
        h('p', {}, 'It appears next to your cursor. Kept on this device.')),
      h('div', { class: 'name-card-controls' },
        input,
        h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save'),
        h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'dismiss' }, identity.chosen ? 'Cancel' : 'Not now')))
    form.addEventListener('submit', (event) => {
      event.preventDefault()
      const name = input.value.trim().replace(/\s+/g, ' ').slice(0, 40)
      if (!name) {
        input.focus()
        return
      }
      identity.name = name
      identity.chosen = true
      saveIdentity(identity)
      announce()
      hideNameCard()
    })
    form.addEventListener('click', (event) => {
      if (/** @type {HTMLElement} */ (event.target).closest('[data-action="dismiss"]')) {
        if (!identity.chosen) sessionStorage.setItem('quire.nameCardDismissed', '1')
        hideNameCard()
      }
    })
    form.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') hideNameCard()
    })
    cardSlot.replaceChildren(form)
    if (focus) input.focus()
  }

  function hideNameCard () {
    const hadFocus = cardSlot.contains(document.activeElement)
    cardSlot.replaceChildren()
    if (hadFocus) editor.commands.focus()
  }

  window.addEventListener('pageshow', (event) => {
    // back from the page cache: we left on pagehide (local state null), so join again
    if (event.persisted) awareness.setLocalState({ user: me() })
  })

  announce()
  renderAvatars()
  if (!identity.account && !identity.chosen && !sessionStorage.getItem('quire.nameCardDismissed')) showNameCard(true)
}
