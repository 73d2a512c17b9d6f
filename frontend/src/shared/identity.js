// Who this browser is: a display name and a colour, kept in localStorage.

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
 * @typedef {{name: string, color: string, chosen: boolean, account?: boolean}} Identity
 * `chosen` is false until the person typed a name (until then we show a guest name).
 * `account`: the name is the signed-in account's display name (not asked, not changed here).
 */

/**
 * This browser's identity; signed in, the account's display name wins over a stored one
 * (the colour stays this browser's).
 * @param {{accountName?: string | null}} [options]
 * @returns {Identity}
 */
export function loadIdentity ({ accountName = null } = {}) {
  const identity = loadStored()
  if (!accountName) return identity
  return { name: accountName.replace(/\s+/g, ' ').trim().slice(0, 100), color: identity.color, chosen: true, account: true }
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
    localStorage.setItem(KEY, JSON.stringify(identity))
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
