// @mentions in plain text (comment messages): how they are found, and whom a few typed letters
// suggest. The server reads mentions with the same pattern (crdt/mentions.py).

/** "@username" not after a word character, "@" or "."; a trailing "." is not part of the name. */
export const MENTION = /(?<![\w@.])@([A-Za-z0-9_][A-Za-z0-9_.-]{1,39})(?![A-Za-z0-9_-])/g

const MAX_SHOWN = 8

/**
 * People whose username or name (or a word of it) starts with `query`, at most eight.
 * @param {import('./api.js').DocPerson[]} people @param {string} query
 */
export function matchPeople (people, query) {
  const q = query.toLowerCase()
  return people.filter((p) => {
    if (!q) return true
    if (p.username.toLowerCase().startsWith(q)) return true
    const name = p.display_name.toLowerCase()
    return name.startsWith(q) || name.split(/\s+/).some((word) => word.startsWith(q))
  }).slice(0, MAX_SHOWN)
}

/**
 * `text` cut into plain pieces and mentions, for showing: [{text, mention: boolean}].
 * @param {string} text
 */
export function mentionPieces (text) {
  /** @type {{text: string, mention: boolean}[]} */
  const pieces = []
  let at = 0
  for (const match of text.matchAll(MENTION)) {
    let name = match[1]
    while (name.endsWith('.')) name = name.slice(0, -1)
    const start = /** @type {number} */ (match.index)
    if (start > at) pieces.push({ text: text.slice(at, start), mention: false })
    pieces.push({ text: `@${name}`, mention: true })
    at = start + 1 + name.length
  }
  if (at < text.length) pieces.push({ text: text.slice(at), mention: false })
  return pieces
}
