// Where threads sit in the text, and how their passages are highlighted.
//
// The `comment` mark itself renders a plain <span class="comment"> with no style: whether a
// passage is highlighted depends on its thread (open: yes, resolved: no, active: strongly),
// which the mark cannot know. This plugin reads the marks (never the y-tiptap `comment--` keys),
// keeps each thread's ranges, and draws decorations for the threads the UI says are visible.
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'

/** @typedef {{from: number, to: number}} Range */

export const anchorsKey = new PluginKey('quireCommentAnchors')

/**
 * Each thread's ranges in the document, in document order, adjacent runs merged.
 * @param {import('@tiptap/pm/model').Node} doc
 * @returns {Map<string, Range[]>}
 */
export function threadRanges (doc) {
  /** @type {Map<string, Range[]>} */
  const ranges = new Map()
  doc.descendants((node, pos) => {
    if (!node.isText) return
    for (const mark of node.marks) {
      if (mark.type.name !== 'comment') continue
      const id = mark.attrs.threadId
      if (typeof id !== 'string' || !id) continue
      const end = pos + node.nodeSize
      const list = ranges.get(id)
      if (!list) ranges.set(id, [{ from: pos, to: end }])
      else if (list[list.length - 1].to === pos) list[list.length - 1].to = end
      else list.push({ from: pos, to: end })
    }
  })
  return ranges
}

/**
 * @typedef {{
 *   ranges: Map<string, Range[]>,
 *   visible: Set<string>,
 *   active: string | null,
 *   pending: Range | null,
 *   decorations: DecorationSet,
 * }} AnchorState
 * @typedef {{visible?: Set<string>, active?: string | null, pending?: Range | null}} AnchorMeta
 */

/**
 * Highlights as non-overlapping pieces, each knowing all the threads that cover it, so that
 * overlapping passages read darker and the active thread lights up across the overlap.
 * @param {import('@tiptap/pm/model').Node} doc @param {AnchorState} s
 */
function decorate (doc, s) {
  /** @type {Array<[number, string, 1 | -1]>} */
  const edges = []
  for (const [id, list] of s.ranges) {
    if (id !== s.active && !s.visible.has(id)) continue
    for (const { from, to } of list) edges.push([from, id, 1], [to, id, -1])
  }
  edges.sort((a, b) => a[0] - b[0])
  const decorations = []
  /** @type {Map<string, number>} */
  const open = new Map()
  let last = -1
  for (const [at, id, step] of edges) {
    if (at > last && open.size > 0) {
      const ids = [...open.keys()]
      let cls = 'comment-hl'
      if (ids.length > 1) cls += ' is-overlap'
      if (s.active && open.has(s.active)) cls += ' is-active'
      decorations.push(Decoration.inline(last, at, { class: cls, 'data-threads': ids.join(' ') }))
    }
    last = at
    const count = (open.get(id) || 0) + step
    if (count > 0) open.set(id, count)
    else open.delete(id)
  }
  if (s.pending && s.pending.from < s.pending.to) {
    decorations.push(Decoration.inline(s.pending.from, s.pending.to, { class: 'comment-pending' }))
  }
  return DecorationSet.create(doc, decorations)
}

/**
 * The thread to focus for a click at `pos`: of the visible threads whose passage holds it, the
 * one with the shortest passage (the most specific, when passages overlap).
 * @param {AnchorState} s @param {number} pos
 */
export function threadAt (s, pos) {
  let best = null
  let bestSize = Infinity
  for (const [id, list] of s.ranges) {
    if (!s.visible.has(id) && id !== s.active) continue
    for (const { from, to } of list) {
      if (pos >= from && pos <= to && to - from < bestSize) {
        best = id
        bestSize = to - from
      }
    }
  }
  return best
}

/**
 * @param {{onClick: (threadId: string | null) => void}} options
 */
export const CommentAnchors = Extension.create({
  name: 'commentAnchors',
  addOptions () {
    return { onClick: (/** @type {string | null} */ _id) => {} }
  },
  addProseMirrorPlugins () {
    const options = this.options
    return [new Plugin({
      key: anchorsKey,
      state: {
        init (_config, state) {
          /** @type {AnchorState} */
          const s = { ranges: threadRanges(state.doc), visible: new Set(), active: null, pending: null, decorations: DecorationSet.empty }
          s.decorations = decorate(state.doc, s)
          return s
        },
        apply (tr, old) {
          /** @type {AnchorMeta | undefined} */
          const meta = tr.getMeta(anchorsKey)
          if (!tr.docChanged && !meta) return old
          const s = { ...old }
          if (tr.docChanged) {
            s.ranges = threadRanges(tr.doc)
            if (s.pending) {
              const from = tr.mapping.map(s.pending.from, 1)
              const to = tr.mapping.map(s.pending.to, -1)
              s.pending = from < to ? { from, to } : null
            }
          }
          if (meta) Object.assign(s, meta)
          s.decorations = decorate(tr.doc, s)
          return s
        },
      },
      props: {
        decorations (state) {
          return anchorsKey.getState(state)?.decorations
        },
        handleClick (view, pos) {
          const s = anchorsKey.getState(view.state)
          const id = s ? threadAt(s, pos) : null
          // The caret goes where the person clicked, as usual; showing the thread waits until
          // it is there: redrawing the highlights (and scrolling the margin) while the click is
          // still being turned into a selection left the caret where it was before.
          setTimeout(() => options.onClick(id), 0)
          return false
        },
      },
    })]
  },
})

/**
 * @param {import('@tiptap/pm/view').EditorView} view
 * @returns {AnchorState}
 */
export function anchorState (view) {
  return anchorsKey.getState(view.state)
}

/** Change what the plugin highlights. @param {import('@tiptap/pm/view').EditorView} view @param {AnchorMeta} meta */
export function setAnchors (view, meta) {
  view.dispatch(view.state.tr.setMeta(anchorsKey, meta).setMeta('addToHistory', false))
}
