// A version of the document shown read-only, with what differs from the current document
// marked: text only in this version highlighted (<ins>-like), text only in the current document
// shown struck through where it would be (<del>). Rendered by a plain, non-editable ProseMirror
// view on the editor's schema (formatting intact, no Yjs); falls back to plain lines of text if
// the version's content does not fit the schema.
import { DOMSerializer, Node } from '@tiptap/pm/model'
import { EditorState } from '@tiptap/pm/state'
import { Decoration, DecorationSet, EditorView } from '@tiptap/pm/view'
import { h } from '../shared/dom.js'
import { diffMarks, textMap } from './version-diff.js'

/**
 * Keep only what the schema knows; drop comment marks (the preview is about the text).
 * @param {any} node @param {import('@tiptap/pm/model').Schema} schema @returns {any}
 */
function clean (node, schema) {
  if (!node || typeof node !== 'object') return null
  if (node.type === 'text') {
    const marks = Array.isArray(node.marks)
      ? node.marks.filter((/** @type {any} */ m) => m && schema.marks[m.type] && m.type !== 'comment')
      : []
    return typeof node.text === 'string' && node.text ? { ...node, marks } : null
  }
  if (!schema.nodes[node.type]) throw new Error(`unknown node ${node.type}`)
  const content = Array.isArray(node.content) ? node.content.map((c) => clean(c, schema)).filter(Boolean) : undefined
  return { ...node, content }
}

/** @param {any} json @param {import('@tiptap/pm/model').Schema} schema */
function toDoc (json, schema) {
  const cleaned = clean(json, schema)
  if (!cleaned.content || cleaned.content.length === 0) cleaned.content = [{ type: 'paragraph' }]
  const doc = Node.fromJSON(schema, cleaned)
  doc.check()
  return doc
}

/** "-" text as it appears: struck through, block breaks as a pilcrow and a new line. @param {string} text */
function deletedText (text) {
  const el = h('del', { class: 'diff-del', title: 'Only in the current document' })
  text.split('\n').forEach((part, i) => {
    if (i > 0) el.append(h('span', { class: 'diff-break', 'aria-label': 'paragraph break' }, '¶'), h('br'))
    if (part) el.append(part)
  })
  return el
}

const LISTS = new Set(['bulletList', 'orderedList', 'taskList'])

/**
 * Blocks only in the current document, each drawn as what it is (a heading as a heading, a list
 * item as a list item), struck through. Inside a list of the version they are list items.
 * @param {import('./version-diff.js').DeletedBlock[]} blocks
 * @param {import('@tiptap/pm/model').Schema} schema @param {boolean} inList
 */
function deletedBlocks (blocks, schema, inList) {
  const serializer = DOMSerializer.fromSchema(schema)
  const wrap = h('div', { class: 'diff-del-blocks', title: 'Only in the current document', role: 'deletion' })
  const out = inList ? [] : [wrap]
  for (const { node, parents } of blocks) {
    /** @type {Node} */
    let el = serializer.serializeNode(/** @type {any} */ (node))
    const item = parents[0] === 'listItem' || parents[0] === 'taskItem'
    if (item) {
      el = h('li', { class: 'diff-del-block', title: 'Only in the current document', role: 'deletion' }, /** @type {any} */ (el))
      if (!inList) el = h(parents[1] === 'orderedList' ? 'ol' : 'ul', {}, /** @type {any} */ (el))
    }
    if (parents.includes('blockquote')) el = h('blockquote', {}, /** @type {any} */ (el))
    if (inList && !item) el = h('li', { class: 'diff-del-block', role: 'deletion' }, /** @type {any} */ (el))
    if (inList) out.push(/** @type {HTMLElement} */ (el))
    else wrap.append(el)
  }
  if (!inList) return wrap
  const fragment = h('div', { class: 'diff-del-items' }) // widgets are one node: the items' box
  fragment.style.display = 'contents'
  fragment.append(...out)
  return fragment
}

/**
 * @param {HTMLElement} container
 * @param {import('@tiptap/pm/model').Schema} schema
 * @param {import('../shared/api.js').VersionDetail} detail
 * @param {import('@tiptap/pm/model').Node | null} [current] the current document, for drawing
 *   blocks that only it has as blocks of their own type
 * @param {{colourClass: (account: string) => string} | null} [authors] who wrote what, when the
 *   detail says (editor/authors.js)
 * @returns {{destroy: () => void}}
 */
export function renderVersion (container, schema, detail, current = null, authors = null) {
  let doc
  let marks = null
  /** @type {Decoration[]} */
  let written = []
  try {
    doc = toDoc(detail.json, schema)
    const map = textMap(doc)
    if (map.text === detail.text) marks = diffMarks(map, detail.diff, doc, current)
    if (marks && authors && detail.attribution) written = authorDecorations(map, detail.attribution.runs, authors)
  } catch (err) {
    console.warn('Quire: version shown as plain text', err)
    doc = null
  }
  if (!doc || !marks) {
    container.replaceChildren(plainDiff(detail.diff))
    return { destroy () { container.replaceChildren() } }
  }

  const version = doc
  const decorations = DecorationSet.create(doc, marks.map((mark) => {
    if (mark.kind === 'ins') return Decoration.inline(mark.from, mark.to, { class: 'diff-ins', title: 'Only in this version' })
    if (mark.kind === 'blocks') {
      const inList = LISTS.has(version.resolve(mark.pos).parent.type.name)
      return Decoration.widget(mark.pos, () => deletedBlocks(mark.blocks, schema, inList), { side: -1, marks: [] })
    }
    if (mark.kind === 'break') {
      return Decoration.widget(mark.pos, () => h('ins', { class: 'diff-ins diff-break', title: 'Paragraph break only in this version' }, '¶'), { side: 1, marks: [] })
    }
    return Decoration.widget(mark.pos, () => deletedText(mark.text), { side: -1, marks: [] })
  }).concat(written))
  const mount = h('div', { class: 'prose version-prose' })
  container.replaceChildren(mount)
  if (written.length && authors && detail.attribution) {
    container.prepend(h('ul', { class: 'authors-legend version-authors', 'aria-label': 'Who wrote this version' },
      ...detail.attribution.authors.map((person) => h('li', { class: 'authors-legend-item' },
        h('span', { class: `author-swatch ${authors.colourClass(person.id)}`, 'aria-hidden': 'true' }),
        h('span', { class: 'authors-legend-name' }, person.name)))))
  }
  const view = new EditorView({ mount }, {
    state: EditorState.create({ doc }),
    editable: () => false,
    decorations: () => decorations,
    attributes: { 'aria-label': 'Version text (read-only)', 'aria-readonly': 'true', role: 'document' },
  })
  return {
    destroy () {
      view.destroy()
      container.replaceChildren()
    },
  }
}

/**
 * Who wrote what in the version (the server's runs over its plain text), as inline decorations
 * coloured only while "Show authors" is on (the page's show-authors class: editor/authors.js).
 * @param {ReturnType<typeof textMap>} map
 * @param {Array<{text: string, author: string | null}>} runs
 * @param {{colourClass: (account: string) => string}} authors
 */
function authorDecorations (map, runs, authors) {
  if (runs.map((run) => run.text).join('') !== map.text) return []
  /** @type {Decoration[]} */
  const out = []
  let offset = 0
  for (const run of runs) {
    const end = offset + run.text.length
    if (run.author) {
      const attrs = { class: `author ${authors.colourClass(run.author)}` }
      let from = -1
      let last = -1
      for (let i = offset; i <= end; i++) {
        const pos = i < end ? map.at[i] : -1
        if (from >= 0 && (pos < 0 || pos !== last + 1)) {
          out.push(Decoration.inline(from, last + 1, attrs))
          from = -1
        }
        if (pos >= 0) {
          if (from < 0) from = pos
          last = pos
        }
      }
    }
    offset = end
  }
  return out
}

/** The diff as lines of text, when the version cannot be shown with its formatting. @param {Array<[string, string]>} segments */
function plainDiff (segments) {
  const root = h('div', { class: 'prose version-prose version-plain' })
  let line = h('p')
  root.append(line)
  for (const [op, chunk] of segments) {
    chunk.split('\n').forEach((part, i) => {
      if (i > 0) {
        if (op === '=' || op === '+') {
          line = h('p')
          root.append(line)
        } else {
          line.append(h('del', { class: 'diff-del diff-break' }, '¶'))
        }
      }
      if (!part) return
      if (op === '+') line.append(h('ins', { class: 'diff-ins', title: 'Only in this version' }, part))
      else if (op === '-') line.append(h('del', { class: 'diff-del', title: 'Only in the current document' }, part))
      else line.append(part)
    })
  }
  return root
}
