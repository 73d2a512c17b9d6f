// Who this browser is: a display name and a colour, kept in localStorage; signed in, also the
// account's id and username (from the page). And how people are named where two share a name.

const KEY = 'quire.user'

/**
 * Caret and avatar colours. Each one carries white text at WCAG AA contrast (>= 4.5:1) and they
 * are far enough apart in hue to tell people apart. Carets need exactly #rrggbb.
 */
export const PALETTE = [
  '#1d4ed8', // blue
  '#b91c1c', // red
  '#15803d', // green
  '#7c3aed', // violet
  '#c2410c', // orange
  '#0f766e', // teal
  '#a21caf', // fuchsia
  '#a16207', // amber
  '#0369a1', // sky
  '#4d7c0f', // lime
]

/**
 * @typedef {{name: string, color: string, chosen: boolean, account?: boolean,
 *   id?: string | null, username?: string | null}} Identity
 * `chosen` is false until the person typed a name (until then we show a guest name).
 * `account`: the name is the signed-in account's display name (not asked, not changed here).
 * `id`: who this is in comment data — the account id, or "link:<share id>" for a share-link
 * visitor (null without accounts); `username`: the account's (null without one).
 */

/**
 * This browser's identity; signed in, the account's display name wins over a stored one
 * (the colour stays this browser's).
 * @param {{accountName?: string | null, id?: string | null, username?: string | null}} [options]
 * @returns {Identity}
 */
export function loadIdentity ({ accountName = null, id = null, username = null } = {}) {
  const identity = loadStored()
  if (!accountName) return { ...identity, id, username: null }
  return { name: accountName.replace(/\s+/g, ' ').trim().slice(0, 100), color: identity.color, chosen: true, account: true, id, username }
}

/** @returns {Identity} */
function loadStored () {
  try {
    const saved = JSON.parse(localStorage.getItem(KEY) || 'null')
    if (saved && typeof saved.name === 'string' && saved.name.trim() && PALETTE.includes(saved.color)) {
      return { name: saved.name.trim().slice(0, 40), color: saved.color, chosen: saved.chosen !== false }
    }
  } catch {
    // unreadable or blocked storage: fall through to a fresh guest identity
  }
  const identity = {
    name: `Guest ${Math.floor(100 + Math.random() * 900)}`,
    color: PALETTE[Math.floor(Math.random() * PALETTE.length)],
    chosen: false,
  }
  saveIdentity(identity)
  return identity
}

/** @param {Identity} identity */
export function saveIdentity (identity) {
  try {
    const { name, color, chosen } = identity // the account's id and username are not this device's
    localStorage.setItem(KEY, JSON.stringify({ name, color, chosen }))
  } catch {
    // private mode / storage full: the name lasts for this page only
  }
}

/** Up to two initials for an avatar: "Ada Lovelace" -> "AL". @param {string} name */
export function initials (name) {
  const words = name.trim().split(/\s+/).filter(Boolean)
  if (words.length === 0) return '?'
  const first = [...words[0]][0] || '?'
  const second = words.length > 1 ? [...words[words.length - 1]][0] : ''
  return (first + second).toUpperCase()
}

/**
 * @typedef {{id?: string | null, name: string, username?: string | null, guest?: boolean}} Named
 * `guest`: a share-link visitor without an account (an id "link:..." says so too).
 */

/** @param {Named} person */
const isGuest = (person) => person.guest === true || !!person.id?.startsWith('link:')

/**
 * Display names that two different people share among `people`, so that the page shows who is
 * who ("Alex Kim @alexk"). People are told apart by `keyOf` (default: id, else username); those
 * it gives no key are left out.
 * @template {Named} P
 * @param {Iterable<P | null | undefined>} people
 * @param {(person: P) => string} [keyOf]
 * @returns {Set<string>}
 */
export function sharedNames (people, keyOf = (p) => p.id || (p.username ? `@${p.username}` : '')) {
  /** @type {Map<string, Set<string>>} */
  const byName = new Map()
  for (const person of people) {
    const key = person ? keyOf(person) : ''
    if (!person || !key) continue
    const keys = byName.get(person.name) ?? new Set()
    keys.add(key)
    byName.set(person.name, keys)
  }
  return new Set([...byName].filter(([, keys]) => keys.size > 1).map(([name]) => name))
}

/**
 * How a person is named: where `shared` says two people have their name, "Alex Kim @alexk"
 * (a share-link visitor without an account: "Alex Kim (guest)"); else just the name.
 * @param {Named} person
 * @param {Set<string>} shared names shared by two people (sharedNames)
 */
export function personLabel (person, shared) {
  if (!shared.has(person.name)) return person.name
  if (person.username) return `${person.name} @${person.username}`
  return isGuest(person) ? `${person.name} (guest)` : person.name
}
