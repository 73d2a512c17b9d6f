// The bell in every page's header (when signed in): the unread count, live (server-sent events
// from /api/notifications/stream, which EventSource reopens by itself after a drop), and the
// inbox it opens: who did what where, quoting the passage and the message; opening one marks it
// read and goes to the document at its thread. Keyboard: Enter/Space on the bell opens, Escape
// closes and returns to the bell, Tab moves through the list (and out of it closes the inbox).
// The focus stays where it was when the list is redrawn (a new notification, all marked read).
import { listNotifications, markNotificationsRead } from './api.js'
import { h } from './dom.js'
import { fullTime, parseServerTime, relativeTime } from './time.js'

/** @param {import('./api.js').Notice} n */
function what (n) {
  const who = n.actor.name || 'Someone'
  const title = n.doc_title.trim() || 'Untitled document'
  if (n.kind === 'mention') return n.actor.name ? `${who} mentioned you in “${title}”` : `You were mentioned in “${title}”`
  if (n.kind === 'reply') return `${who} replied in “${title}”`
  if (n.kind === 'assigned') return `${who} assigned you a comment in “${title}”`
  return `${who} shared “${title}” with you`
}

export function mountNotifications () {
  const bell = /** @type {HTMLButtonElement | null} */ (document.getElementById('bell'))
  const inbox = document.getElementById('inbox')
  if (!bell || !inbox) return null
  const badge = /** @type {HTMLElement} */ (bell.querySelector('.bell-count'))
  let unread = 0

  /** @param {number} n */
  function setCount (n) {
    unread = n
    badge.textContent = n > 99 ? '99+' : String(n)
    badge.hidden = n === 0
    bell.setAttribute('aria-label', n ? `Notifications, ${n} unread` : 'Notifications')
    bell.dataset.unread = String(n)
    document.dispatchEvent(new CustomEvent('quire:unread', { detail: n })) // lists that follow
  }
  setCount(0)

  const stream = new EventSource('/api/notifications/stream')
  stream.addEventListener('unread', (event) => {
    try {
      setCount(Number(JSON.parse(/** @type {MessageEvent} */ (event).data).unread) || 0)
    } catch { /* a malformed event: keep the count */ }
    if (!inbox.hidden) refresh()
  })
  window.addEventListener('pagehide', () => stream.close())

  const list = h('ul', { class: 'inbox-list', 'aria-label': 'Notifications' })
  const allRead = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-quiet inbox-all' }, 'Mark all read'))
  inbox.replaceChildren(
    h('div', { class: 'inbox-head' }, h('h2', { id: 'inbox-title' }, 'Notifications'), allRead),
    list)

  /** @param {import('./api.js').Notice} n */
  function item (n) {
    const when = parseServerTime(n.created_at)
    const link = h('a', { class: 'inbox-item', href: n.url, dataset: { id: String(n.id), unread: String(!n.read) } },
      n.read ? null : h('span', { class: 'visually-hidden' }, 'Unread: '),
      h('span', { class: 'inbox-what' }, what(n)),
      n.kind !== 'share' && n.quote ? h('span', { class: 'inbox-quote' }, `“${n.quote}”`) : null,
      n.kind !== 'share' && n.excerpt ? h('span', { class: 'inbox-excerpt' }, n.excerpt) : null,
      h('time', { class: 'inbox-time', datetime: n.created_at, title: fullTime(when) }, relativeTime(when)))
    link.addEventListener('click', async (event) => {
      if (n.read || event.ctrlKey || event.metaKey || event.shiftKey) return
      event.preventDefault()
      try { await markNotificationsRead([n.id]) } catch { /* going there matters more */ }
      location.assign(n.url)
    })
    return h('li', {}, link)
  }

  /** Where the focus was inside the inbox (a notification's id, or another element), if it was. */
  function focusedInside () {
    const el = document.activeElement
    if (!(el instanceof HTMLElement) || !inbox.contains(el)) return null
    return el.dataset.id ?? el
  }

  /** Put the focus back after the list was redrawn: the same notification, or the nearest thing. */
  function refocus (/** @type {string | HTMLElement} */ was) {
    if (typeof was !== 'string' && was.isConnected && !(was instanceof HTMLButtonElement && was.disabled)) {
      was.focus()
      return
    }
    const same = typeof was === 'string' ? list.querySelector(`.inbox-item[data-id="${CSS.escape(was)}"]`) : null
    const target = /** @type {HTMLElement} */ (same ?? inbox.querySelector('.inbox-item') ?? (allRead.disabled ? inbox : allRead))
    target.focus()
  }

  async function refresh () {
    const was = focusedInside()
    list.setAttribute('aria-busy', 'true')
    try {
      const page = await listNotifications()
      setCount(page.unread)
      list.replaceChildren(...(page.items.length ? page.items.map(item)
        : [h('li', { class: 'inbox-empty' }, 'Nothing new. You’ll see mentions, replies, assignments and invitations here.')]))
      allRead.disabled = page.unread === 0
    } catch (err) {
      list.replaceChildren(h('li', { class: 'inbox-empty' }, `Could not load notifications: ${/** @type {Error} */ (err).message}`))
    } finally {
      list.setAttribute('aria-busy', 'false')
      if (was !== null && !inbox.hidden) refocus(was)
    }
  }

  async function open () {
    inbox.hidden = false
    bell.setAttribute('aria-expanded', 'true')
    await refresh()
    const first = /** @type {HTMLElement | null} */ (inbox.querySelector('.inbox-item') ?? allRead)
    first?.focus()
  }

  function close (refocus = true) {
    if (inbox.hidden) return
    inbox.hidden = true
    bell.setAttribute('aria-expanded', 'false')
    if (refocus) bell.focus()
  }

  bell.addEventListener('click', () => { if (inbox.hidden) open(); else close() })
  inbox.tabIndex = -1 // the place the focus goes when nothing in it can take it
  allRead.addEventListener('click', async () => {
    try {
      setCount((await markNotificationsRead('all')).unread)
      await refresh() // the button is disabled now: the focus moves to the first notification
    } catch { /* the count stays as the server last said */ }
  })
  inbox.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.stopPropagation()
      close()
    }
  })
  inbox.addEventListener('focusout', (event) => {
    const to = /** @type {Node | null} */ (event.relatedTarget)
    if (to && !inbox.contains(to) && !bell.contains(to)) close(false) // Tab went on past it
  })
  document.addEventListener('mousedown', (event) => {
    const target = /** @type {Node} */ (event.target)
    if (!inbox.hidden && !inbox.contains(target) && !bell.contains(target)) close(false)
  })
  return { get unread () { return unread } }
}
