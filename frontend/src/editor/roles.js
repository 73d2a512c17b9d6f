// Roles on a document (README "Accounts, sharing and roles"): what each may do in the editor,
// what the page says about it, and the last role this device saw (for the first moment of a
// visit and for reloads while the server is unreachable). The server enforces all of it; the
// page only avoids offering what would be refused.

/** @typedef {'viewer' | 'commenter' | 'editor' | 'owner'} Role */

const RANK = { viewer: 1, commenter: 2, editor: 3, owner: 4 }

/** @param {string | null | undefined} role @returns {role is Role} */
export function isRole (role) {
  return typeof role === 'string' && Object.hasOwn(RANK, role)
}

/** May write the text and the title, name and restore versions. @param {string | null | undefined} role */
export function canEditAs (role) {
  return isRole(role) && RANK[role] >= RANK.editor
}

/** May write comments (a commenter does, with the text read-only). @param {string | null | undefined} role */
export function canCommentAs (role) {
  return isRole(role) && RANK[role] >= RANK.commenter
}

/** The quiet line above the page, or '' when there is nothing to say. @param {string | null | undefined} role */
export function roleBanner (role) {
  if (role === 'viewer') return 'You can read this document; you cannot edit it.'
  if (role === 'commenter') return 'You can comment on this document, and suggest changes to its text (Suggesting).'
  return ''
}

const KEY = 'quire.roles'
const MAX_REMEMBERED = 200

/** @returns {Record<string, Role>} */
function load () {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) || '{}')
    return value && typeof value === 'object' ? value : {}
  } catch {
    return {}
  }
}

/** The role this device last saw on `docId`, or null. @param {string} docId @returns {Role | null} */
export function cachedRole (docId) {
  const role = load()[docId]
  return isRole(role) ? role : null
}

/** @param {string} docId @param {Role} role */
export function rememberRole (docId, role) {
  const roles = load()
  if (roles[docId] === role) return
  delete roles[docId]
  roles[docId] = role
  const ids = Object.keys(roles)
  for (const id of ids.slice(0, Math.max(0, ids.length - MAX_REMEMBERED))) delete roles[id]
  try {
    localStorage.setItem(KEY, JSON.stringify(roles))
  } catch {
    // storage full or blocked: the next visit asks the server first, as a first visit does
  }
}
