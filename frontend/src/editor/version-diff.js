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
 * @typedef {{node: PMNode, parents: string[]}} DeletedBlock a block of the current document
 *   (a text block, with the types of the nodes around it, innermost first)
 * @typedef {{kind: 'ins', from: number, to: number}
 *   | {kind: 'del', pos: number, text: string}
 *   | {kind: 'break', pos: number}
 *   | {kind: 'blocks', pos: number, blocks: DeletedBlock[]}} Mark
 *   ins: a range only in the version; del: text only in the current document, shown at pos;
 *   break: a block break only in the version, at the end of the block before it;
 *   blocks: whole blocks only in the current document, shown as blocks of their own type at pos
 *   (a position between nodes of the version's document).
 * @typedef {{from: number, to: number, node: PMNode, parents: string[]}} TextBlock
 *   a text block and where its text lies in the document's text (to: exclusive, the separator)
 */

/** The text blocks of `doc`, in textMap's order, with their place in its text. @param {PMNode} doc @returns {TextBlock[]} */
export function textBlocks (doc) {
  /** @type {TextBlock[]} */
  const blocks = []
  let offset = 0
  doc.descendants((node, pos) => {
    if (!node.isTextblock) return true
    if (blocks.length) offset += 1 // the separator
    let length = 0
    node.forEach((child) => {
      if (child.isText) length += /** @type {string} */ (child.text).length
      else if (child.type.name === 'hardBreak') length += 1
    })
    const $pos = doc.resolve(pos)
    const parents = []
    for (let d = $pos.depth; d > 0; d--) parents.push($pos.node(d).type.name)
    blocks.push({ from: offset, to: offset + length, node, parents })
    offset += length
    return false
  })
  return blocks
}

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

const ITEMS = new Set(['listItem', 'taskItem'])

/**
 * Where blocks shown at version text offset `offset` go: between the version's nodes, before
 * the block that starts there, or after the block it falls in (or at the end). List items go
 * beside the version's list item there, when there is one of the same kind.
 * @param {PMNode} doc @param {TextMap} map @param {number} offset @param {DeletedBlock} first
 */
function blockPlace (doc, map, offset, first) {
  const $at = doc.resolve(map.before[offset])
  if (!$at.parent.isTextblock) return $at.pos
  const atStart = offset < map.text.length && (offset === 0 || map.sep[offset - 1])
  const item = $at.depth > 1 && ITEMS.has(first.parents[0] ?? '') && $at.node($at.depth - 1).type.name === first.parents[0]
  const depth = item ? $at.depth - 1 : $at.depth
  return atStart ? $at.before(depth) : $at.after(depth)
}

/**
 * A "-" chunk (current text [from, to)) split into the text blocks it deletes whole and the
 * text around them. A block is whole when all its text and one separator next to it are in the
 * chunk. @param {TextBlock[]} blocks @param {string} chunk @param {number} from
 */
function splitDeletion (blocks, chunk, from) {
  const to = from + chunk.length
  const whole = blocks.filter((b) => b.from >= from && b.to <= to && (b.from - 1 >= from || b.to + 1 <= to))
  if (!whole.length) return null
  const first = whole[0]
  const last = whole[whole.length - 1]
  const head = chunk.slice(0, Math.max(0, first.from - 1 - from))
  const tail = chunk.slice(Math.min(chunk.length, last.to + 1 - from))
  return { whole, head, tail }
}

/**
 * What to mark in the version's document, or null when the diff does not describe this text
 * (then show the diff as plain text instead). With `current` (the current document, whose text
 * the diff's "=" and "-" segments make), text only in the current document that is whole blocks
 * is shown as those blocks, each of its own type, between the version's blocks — not as text
 * run into a neighbouring block.
 * @param {TextMap} map
 * @param {Array<[string, string]>} segments
 * @param {PMNode | null} [doc] the version's document (needed with `current`)
 * @param {PMNode | null} [current]
 * @returns {Mark[] | null}
 */
export function diffMarks (map, segments, doc = null, current = null) {
  /** @type {TextBlock[] | null} */
  let blocks = null
  if (doc && current) {
    const currentText = segments.filter(([op]) => op === '=' || op === '-').map(([, c]) => c).join('')
    if (textMap(current).text === currentText) blocks = textBlocks(current)
  }
  /** @type {Mark[]} */
  const marks = []
  let offset = 0
  let currentOffset = 0
  for (const [op, chunk] of segments) {
    if (op === '-') {
      const split = blocks && doc ? splitDeletion(blocks, chunk, currentOffset) : null
      currentOffset += chunk.length
      if (!split || !doc) {
        marks.push({ kind: 'del', pos: map.before[offset], text: chunk })
        continue
      }
      const inline = [split.head, split.tail].filter(Boolean).join('\n')
      if (inline) marks.push({ kind: 'del', pos: map.before[offset], text: inline })
      const deleted = split.whole.map((b) => ({ node: b.node, parents: b.parents }))
      marks.push({ kind: 'blocks', pos: blockPlace(doc, map, offset, deleted[0]), blocks: deleted })
      continue
    }
    if (op === '=') currentOffset += chunk.length
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
