// Lay the server's word diff (GET /api/docs/{id}/versions/{vid}: `diff`, segments [op, text]
// turning the current document's text into the version's) over the version's own document.
//
// The diff is on plain text as crdt/markdown.py's document_text makes it: one line per text
// block, blocks joined by "\n", hard breaks as "\n". textMap() walks a ProseMirror document the
// same way and remembers where each character lives, so "+" text (only in the version) becomes
// inline highlights and "-" text (only in the current document) is shown where it would be.

/**
 * @typedef {import('@tiptap/pm/model').Node} PMNode
 * @typedef {{text: string, at: number[], sep: boolean[], before: number[]}} TextMap
 *   at[i]: document position of character i (for a block separator: -1);
 *   sep[i]: character i is a block separator (not in the document);
 *   before[i]: where something inserted before character i goes (i may be text.length).
 * @typedef {{kind: 'ins', from: number, to: number}
 *   | {kind: 'del', pos: number, text: string}
 *   | {kind: 'break', pos: number}} Mark
 *   ins: a range only in the version; del: text only in the current document, shown at pos;
 *   break: a block break only in the version, at the end of the block before it.
 */

/** @param {PMNode} doc @returns {TextMap} */
export function textMap (doc) {
  let text = ''
  /** @type {number[]} */ const at = []
  /** @type {boolean[]} */ const sep = []
  /** @type {number[]} */ const before = []
  let blockEnd = -1 // end of the previous text block's content
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
    if (blockEnd >= 0) {
      text += '\n'
      at.push(-1)
      sep.push(true)
      before.push(blockEnd)
    }
    node.forEach((child, offset) => {
      const start = pos + 1 + offset
      if (child.isText) {
        const chunk = /** @type {string} */ (child.text)
        for (let i = 0; i < chunk.length; i++) {
          at.push(start + i)
          sep.push(false)
          before.push(start + i)
        }
        text += chunk
      } else if (child.type.name === 'hardBreak') {
        text += '\n'
        at.push(start)
        sep.push(false)
        before.push(start)
      }
    })
    blockEnd = pos + node.nodeSize - 1
    return false
  })
  before.push(blockEnd >= 0 ? blockEnd : 0)
  return { text, at, sep, before }
}

/**
 * What to mark in the version's document, or null when the diff does not describe this text
 * (then show the diff as plain text instead).
 * @param {TextMap} map
 * @param {Array<[string, string]>} segments
 * @returns {Mark[] | null}
 */
export function diffMarks (map, segments) {
  /** @type {Mark[]} */
  const marks = []
  let offset = 0
  for (const [op, chunk] of segments) {
    if (op === '-') {
      marks.push({ kind: 'del', pos: map.before[offset], text: chunk })
      continue
    }
    if (op !== '=' && op !== '+') return null
    if (map.text.slice(offset, offset + chunk.length) !== chunk) return null
    if (op === '+') {
      /** @type {{kind: 'ins', from: number, to: number} | null} */
      let run = null
      for (let i = offset; i < offset + chunk.length; i++) {
        if (map.sep[i]) {
          run = null
          marks.push({ kind: 'break', pos: map.before[i] })
        } else if (run && run.to === map.at[i]) {
          run.to++
        } else {
          run = { kind: 'ins', from: map.at[i], to: map.at[i] + 1 }
          marks.push(run)
        }
      }
    }
    offset += chunk.length
  }
  return offset === map.text.length ? marks : null
}

/** How much differs, for a one-line summary. @param {Array<[string, string]>} segments */
export function diffStats (segments) {
  const words = (/** @type {string} */ s) => (s.match(/[^\s]+/g) || []).length
  let added = 0
  let removed = 0
  for (const [op, chunk] of segments) {
    if (op === '+') added += words(chunk)
    if (op === '-') removed += words(chunk)
  }
  return { added, removed, same: segments.every(([op]) => op === '=') }
}
