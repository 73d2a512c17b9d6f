// Suggesting mode ("track changes"): what a person types, pastes or deletes becomes a
// suggestion instead of a change. Two marks carry them (crdt/suggestions.py is the server's
// side of the same rules): `suggestInsert` on proposed text, `suggestDelete` on text proposed
// for removal, each {id, author, at}. In Suggesting mode every local transaction is rewritten
// before it reaches the document (Tiptap's dispatchTransaction hook):
// - typed or pasted text is inserted with `suggestInsert` (after any text it replaces; next
//   to the person's own pending insertion it extends that one);
// - deleted text gets `suggestDelete` instead of going, except text of one's own pending
//   insertion, which really goes; replacing a selection is one suggestion with both parts;
// - formatting applies only inside one's own pending insertion;
// - new paragraphs, list and block changes are not suggestions (yet): they are not made, and
//   the person is told so once.
// Remote changes (y-tiptap's) and decisions (accept/reject) pass untouched. Undo undoes one's
// own suggestion like any change (Yjs's undo manager).
import { Extension, Mark, mergeAttributes } from '@tiptap/core'
import { TextSelection } from '@tiptap/pm/state'
import { AddMarkStep, RemoveMarkStep, ReplaceStep } from '@tiptap/pm/transform'
import { Fragment } from '@tiptap/pm/model'
import { ySyncPluginKey, yUndoPluginKey } from '@tiptap/y-tiptap'

export const INSERT = 'suggestInsert'
export const DELETE = 'suggestDelete'
export const DECISION = 'quireSuggestionDecision'

/** A colour slot (0–7) for an author, the same on every page. @param {string | null} author */
export function hueOf (author) {
  let hash = 0
  for (const ch of author || '') hash = (hash * 31 + ch.charCodeAt(0)) >>> 0
  return String(hash % 8)
}

/** @param {string} name @param {string} tag @param {string} className */
function suggestionMark (name, tag, className) {
  return Mark.create({
    name,
    inclusive: false,
    excludes: `${INSERT} ${DELETE}`,
    addAttributes () {
      return {
        id: { default: null, parseHTML: (el) => el.getAttribute('data-suggestion') },
        author: { default: null, parseHTML: (el) => el.getAttribute('data-author') },
        at: { default: null, parseHTML: (el) => Number(el.getAttribute('data-at')) || null },
      }
    },
    parseHTML () { return [{ tag: `${tag}[data-suggestion]` }] },
    renderHTML ({ mark, HTMLAttributes }) {
      return [tag, mergeAttributes({
        class: className,
        'data-suggestion': mark.attrs.id,
        'data-author': mark.attrs.author,
        'data-at': mark.attrs.at,
        'data-hue': hueOf(mark.attrs.author),
      }, { ...HTMLAttributes, id: null, author: null, at: null }), 0]
    },
  })
}

export const SuggestInsert = suggestionMark(INSERT, 'ins', 'suggest-ins')
export const SuggestDelete = suggestionMark(DELETE, 'del', 'suggest-del')

/** A new suggestion id (what the server accepts: letters, digits, - and _). */
export function newId () {
  return `s${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`
}

/**
 * @param {import('@tiptap/pm/model').Node} node
 * @param {string} type
 * @returns {import('@tiptap/pm/model').Mark | undefined}
 */
function markOf (node, type) {
  return node.marks.find((m) => m.type.name === type)
}

/**
 * Rewrite a transaction as suggestions by `author`; null when nothing of it can be suggested.
 * @param {import('@tiptap/pm/state').EditorState} state
 * @param {import('@tiptap/pm/state').Transaction} tr
 * @param {string} author
 * @returns {{tr: import('@tiptap/pm/state').Transaction | null, unsupported: boolean}}
 */
export function trackTransaction (state, tr, author) {
  const steps = tr.steps
  if (steps.every((s) => s instanceof AddMarkStep || s instanceof RemoveMarkStep)) {
    return { tr: formatOwn(state, tr, author), unsupported: false }
  }
  const replace = steps.length === 1 && steps[0] instanceof ReplaceStep ? /** @type {any} */ (steps[0]) : null
  if (!replace || replace.structure) return { tr: null, unsupported: true }
  const { from, to, slice } = replace
  const schema = state.schema
  const insertType = schema.marks[INSERT]
  const deleteType = schema.marks[DELETE]
  const out = state.tr
  const at = Date.now()
  /** @type {string | null} */
  let id = null
  const doc = state.doc

  // what the inserted content is: inline nodes only (a new paragraph is not a suggestion)
  let content = slice.content
  if (slice.size && slice.openStart > 0 && content.childCount === 1 && content.firstChild?.isTextblock) {
    content = content.firstChild.content
  }
  let inline = true
  content.forEach((node) => { if (!node.isInline) inline = false })
  if (slice.size && !inline) {
    // several paragraphs pasted: their text, one space between them
    const text = slice.content.textBetween(0, slice.content.size, ' ', ' ')
    if (!text) return { tr: null, unsupported: true }
    content = Fragment.from(schema.text(text))
  }

  // 1. what goes: own pending insertions really go, other text is marked
  /** @type {Array<[number, number]>} */ const gone = []
  /** @type {Array<[number, number]>} */ const marked = []
  if (from < to) {
    doc.nodesBetween(from, to, (node, pos) => {
      if (!node.isInline) return true
      const start = Math.max(pos, from)
      const end = Math.min(pos + node.nodeSize, to)
      const ins = markOf(node, INSERT)
      if (ins && ins.attrs.author === author) gone.push([start, end])
      else if (!markOf(node, DELETE)) marked.push([start, end])
      return false
    })
    if (marked.length) {
      // next to one's own deletion: the same suggestion grows
      const before = doc.resolve(marked[0][0]).nodeBefore
      const after = doc.resolve(marked[marked.length - 1][1]).nodeAfter
      const near = (before && markOf(before, DELETE)) || (after && markOf(after, DELETE))
      const extend = near && near.attrs.author === author && !content.size ? near : null
      const mark = extend || deleteType.create({ id: newId(), author, at })
      id = mark.attrs.id
      for (const [start, end] of marked) out.addMark(start, end, mark)
    }
    for (const [start, end] of gone.reverse()) out.delete(out.mapping.map(start), out.mapping.map(end))
  }

  // 2. what comes: after the text it replaces, marked as one's own insertion
  let caret
  if (content.size) {
    const insertAt = out.mapping.map(to)
    const $at = out.doc.resolve(insertAt)
    if (!$at.parent.inlineContent) return { tr: null, unsupported: true }
    const neighbour = $at.nodeBefore && markOf($at.nodeBefore, INSERT)
    const own = neighbour && neighbour.attrs.author === author ? neighbour : null
    const mark = own && !marked.length ? own : insertType.create({ id: id || newId(), author, at })
    const nodes = []
    content.forEach((node) => { nodes.push(node.mark(mark.addToSet(node.marks.filter((m) => m.type !== deleteType)))) })
    out.insert(insertAt, Fragment.from(nodes))
    caret = insertAt + Fragment.from(nodes).size
  } else if (from < to) {
    // Backspace leaves the caret before what it marked, Delete after it
    const backward = state.selection.head >= to
    caret = backward ? out.mapping.map(from, -1) : out.mapping.map(to, 1)
  } else {
    return { tr: null, unsupported: false }
  }
  out.setSelection(TextSelection.create(out.doc, Math.min(caret, out.doc.content.size)))
  if (tr.scrolledIntoView) out.scrollIntoView()
  for (const key of ['uiEvent', 'paste', 'addToHistory']) {
    if (tr.getMeta(key) !== undefined) out.setMeta(key, tr.getMeta(key))
  }
  return { tr: out.docChanged || out.selectionSet ? out : null, unsupported: false }
}

/**
 * Formatting in Suggesting mode: only where the text is one's own pending insertion.
 * @param {import('@tiptap/pm/state').EditorState} state
 * @param {import('@tiptap/pm/state').Transaction} tr
 * @param {string} author
 */
function formatOwn (state, tr, author) {
  const out = state.tr
  for (const step of /** @type {any[]} */ (tr.steps)) {
    state.doc.nodesBetween(step.from, step.to, (node, pos) => {
      if (!node.isInline) return true
      const ins = markOf(node, INSERT)
      if (ins && ins.attrs.author === author && step.mark.type.name !== INSERT && step.mark.type.name !== DELETE) {
        const start = Math.max(pos, step.from)
        const end = Math.min(pos + node.nodeSize, step.to)
        if (step instanceof AddMarkStep) out.addMark(start, end, step.mark)
        else out.removeMark(start, end, step.mark)
      }
      return false
    })
  }
  out.setSelection(state.selection.map(out.doc, out.mapping))
  return out.docChanged ? out : null
}

/**
 * The pending suggestions, in document order.
 * @param {import('@tiptap/pm/model').Node} doc
 * @returns {Array<{id: string, author: string | null, at: number | null, inserted: string, deleted: string, from: number, to: number}>}
 */
export function suggestionsIn (doc) {
  /** @type {Map<string, {id: string, author: string | null, at: number | null, inserted: string, deleted: string, from: number, to: number}>} */
  const found = new Map()
  doc.descendants((node, pos) => {
    if (!node.isText) return true
    for (const type of [INSERT, DELETE]) {
      const mark = markOf(node, type)
      if (!mark || !mark.attrs.id) continue
      let entry = found.get(mark.attrs.id)
      if (!entry) {
        entry = { id: mark.attrs.id, author: mark.attrs.author, at: mark.attrs.at, inserted: '', deleted: '', from: pos, to: pos }
        found.set(mark.attrs.id, entry)
      }
      if (type === INSERT) entry.inserted += node.text
      else entry.deleted += node.text
      entry.to = pos + node.nodeSize
    }
    return false
  })
  return [...found.values()]
}

/**
 * Accept or reject suggestions (`ids`, or all, or all of `author`) as one change.
 * @param {import('@tiptap/core').Editor} editor
 * @param {{accept: boolean, ids?: Set<string> | null, author?: string | null}} what
 */
export function decide (editor, { accept, ids = null, author = null }) {
  const { state } = editor
  const tr = state.tr
  /** @type {Array<{from: number, to: number, type: string}>} */
  const ranges = []
  state.doc.descendants((node, pos) => {
    if (!node.isText) return true
    for (const type of [INSERT, DELETE]) {
      const mark = markOf(node, type)
      if (!mark || (ids && !ids.has(mark.attrs.id)) || (author && mark.attrs.author !== author)) continue
      ranges.push({ from: pos, to: pos + node.nodeSize, type })
    }
    return false
  })
  for (const { from, to, type } of ranges.reverse()) {
    const goes = (type === INSERT) !== accept
    if (goes) tr.delete(from, to)
    else tr.removeMark(from, to, state.schema.marks[type])
  }
  if (!tr.docChanged) return false
  tr.setMeta(DECISION, true)
  // one decision, one undo step (Yjs would merge changes made within half a second)
  newUndoStep(editor)
  editor.view.dispatch(tr)
  newUndoStep(editor)
  return true
}

/**
 * What comes next is a new undo step, never merged with what came just before (Yjs merges
 * changes made within half a second): after a decision, and when the mode changes.
 * @param {import('@tiptap/core').Editor} editor
 */
export function newUndoStep (editor) {
  yUndoPluginKey.getState(editor.state)?.undoManager?.stopCapturing()
}

/** A comment highlight added or removed (comments are not suggestions). @param {any} step */
function commentMarkStep (step) {
  return (step instanceof AddMarkStep || step instanceof RemoveMarkStep) &&
    step.mark.type.name.startsWith('comment')
}

/**
 * The Tiptap extension: the marks and the transaction rewriting.
 * @param {{mode: () => string, author: () => string | null, unsupported: () => void}} options
 */
export function suggestionExtensions ({ mode, author, unsupported }) {
  const Track = Extension.create({
    name: 'suggestTrack',
    dispatchTransaction ({ transaction, next }) {
      const who = author()
      if (mode() !== 'suggesting' || !who || !transaction.docChanged ||
          transaction.getMeta(ySyncPluginKey) || transaction.getMeta(DECISION) ||
          transaction.steps.every(commentMarkStep)) {
        next(transaction)
        return
      }
      const { tr, unsupported: refused } = trackTransaction(this.editor.state, transaction, who)
      if (refused) unsupported()
      if (tr) next(tr)
    },
  })
  return [SuggestInsert, SuggestDelete, Track]
}
