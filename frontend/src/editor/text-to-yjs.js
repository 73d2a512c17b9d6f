// Text typed, pasted or deleted inside a paragraph goes into Yjs where it was typed.
//
// The Yjs binding (y-tiptap) does not write a change as ProseMirror made it: it compares each
// paragraph's new text with the text Yjs holds and writes the difference it finds, taking the
// longest common start first. Typing a letter just before the same letter ("bra|a" + "a") is then
// written *after* that letter. The text reads the same, but in Yjs the new letter follows the
// co-author's letter, and the person's caret now sits before their own letter: the co-author's
// next letters, anchored to theirs, land between, and this person's next letters go before the
// one they just typed ("Start.bralpha vo a" from "alpha " and "bravo " typed at one spot; issue
// 18, defect 5). So a change that is one replacement of text inside one paragraph is written to
// Yjs here, at the exact offset ProseMirror says, inside the binding's own Yjs transaction (same
// origin, same undo step, one update); the binding then finds the text equal and only brings the
// formatting in line. Anything else, or a Yjs that does not hold the expected text, is left to
// the binding as before.
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { AddMarkStep, RemoveMarkStep, ReplaceStep } from '@tiptap/pm/transform'
import { ySyncPluginKey } from '@tiptap/y-tiptap'
import * as Y from 'yjs'

/**
 * The Yjs text holding the run of text around `pos` in `doc` (the document Yjs was last synced
 * with), the offset of `pos` in it, and where the run ends; null unless Yjs holds that very
 * paragraph (the binding's mapping says so at every level) with that very text.
 * @param {Y.XmlFragment} fragment
 * @param {Map<any, any>} mapping the binding's Yjs type -> ProseMirror node map
 * @param {import('@tiptap/pm/model').Node} doc
 * @param {number} pos
 * @returns {{text: Y.XmlText, offset: number, end: number} | null}
 */
export function yTextAt (fragment, mapping, doc, pos) {
  const $pos = doc.resolve(pos)
  const block = $pos.parent
  if (!block.inlineContent) return null
  /** @type {Y.XmlFragment | Y.XmlElement} */
  let type = fragment
  for (let depth = 0; depth < $pos.depth; depth++) {
    const child = type.length > $pos.index(depth) ? type.get($pos.index(depth)) : null
    if (!(child instanceof Y.XmlElement) || mapping.get(child) !== $pos.node(depth + 1)) return null
    type = child
  }
  // The binding keeps each run of consecutive text nodes as one Y.XmlText, other inline nodes as
  // elements between them. Find the run that holds `pos` (ending there counts: text typed just
  // before an inline node joins the text before it).
  let yIndex = 0
  let at = $pos.start()
  for (let i = 0; i < block.childCount;) {
    const child = block.child(i)
    if (!child.isText) {
      at += child.nodeSize
      yIndex++
      i++
      continue
    }
    const start = at
    let content = ''
    for (; i < block.childCount && block.child(i).isText; i++) {
      content += block.child(i).text
      at += block.child(i).nodeSize
    }
    if (pos >= start && pos <= at) {
      const text = type.length > yIndex ? type.get(yIndex) : null
      if (!(text instanceof Y.XmlText) || plainText(text) !== content) return null
      return { text, offset: pos - start, end: at }
    }
    yIndex++
  }
  return null
}

/** @param {Y.XmlText} text */
function plainText (text) {
  return text.toDelta().map((/** @type {{insert: any}} */ d) => typeof d.insert === 'string' ? d.insert : '\uFFFC').join('')
}

/**
 * The step, when it replaces text with text inside one run of text of one paragraph.
 * @param {import('@tiptap/pm/transform').Step} step
 * @returns {ReplaceStep | null}
 */
function textReplacement (step) {
  if (!(step instanceof ReplaceStep)) return null
  const { slice } = step
  if (slice.openStart !== 0 || slice.openEnd !== 0) return null
  let flat = true
  slice.content.forEach((node) => { if (!node.isText) flat = false })
  return flat ? step : null
}

/**
 * Write one text replacement, made on `doc`, to Yjs at the offset where it was made. Call it
 * inside the binding's Yjs transaction, before the binding compares; formatting of the new text
 * is the one Yjs has there (the binding then sets the text's own marks).
 * @param {Y.XmlFragment} fragment
 * @param {Map<any, any>} mapping the binding's map, still describing `doc`
 * @param {import('@tiptap/pm/model').Node} doc the document before the step, as Yjs holds it
 * @param {import('@tiptap/pm/transform').Step} step
 * @returns {boolean} whether it was written (false: Yjs untouched)
 */
export function writeTextStep (fragment, mapping, doc, step) {
  const replace = textReplacement(step)
  if (!replace) return false
  const { from, to } = replace
  if (to > doc.content.size || !doc.resolve(from).sameParent(doc.resolve(to))) return false
  const at = yTextAt(fragment, mapping, doc, from)
  if (!at || to > at.end) return false
  const inserted = replace.slice.content.textBetween(0, replace.slice.content.size)
  if (to > from) at.text.delete(at.offset, to - from)
  if (inserted) at.text.insert(at.offset, inserted)
  return true
}

/** The steps of the change being drawn, since the state the view showed before it. */
const changeKey = new PluginKey('textToYjs')

/**
 * @typedef {{base: import('@tiptap/pm/model').Node, step: import('@tiptap/pm/transform').Step | null, plain: boolean}} Change
 */

/**
 * Writes a change that is one text replacement in a paragraph to Yjs as made (see the top).
 * Its plugin view comes before the Yjs binding's, so the change is known when the binding's
 * Yjs transaction begins.
 * @param {Y.Doc} doc
 */
export function textToYjs (doc) {
  return Extension.create({
    name: 'textToYjs',
    priority: 1001, // before Collaboration's (1000): its view update runs before the binding's
    addProseMirrorPlugins () {
      /** @type {import('@tiptap/pm/view').EditorView | null} */
      let current = null
      /** @type {{before: import('@tiptap/pm/model').Node, after: import('@tiptap/pm/model').Node, step: import('@tiptap/pm/transform').Step} | null} */
      let pending = null
      const write = (/** @type {Y.Transaction} */ transaction) => {
        if (transaction.origin !== ySyncPluginKey) return
        const change = pending
        pending = null
        if (!change || !transaction.local || !current || current.state.doc !== change.after) return
        const binding = ySyncPluginKey.getState(current.state)?.binding
        if (!binding || binding.type.doc !== doc) return
        writeTextStep(binding.type, binding.mapping, change.before, change.step)
      }
      return [new Plugin({
        key: changeKey,
        state: {
          /** @returns {Change} */
          init: (_, state) => ({ base: state.doc, step: null, plain: false }),
          /** @returns {Change} */
          apply (tr, change, oldState) {
            // a dispatch starts from the state the view shows; appended transactions continue it
            const start = !current || oldState === current.state
            const base = start ? oldState.doc : change.base
            let { step, plain } = start ? { step: null, plain: true } : change
            if (!tr.docChanged) return { base, step, plain }
            const sync = tr.getMeta(ySyncPluginKey)
            if (sync?.isChangeOrigin || tr.getMeta('addToHistory') === false) plain = false
            for (const s of tr.steps) {
              if (s instanceof AddMarkStep || s instanceof RemoveMarkStep) continue // no text moves
              if (step || !textReplacement(s)) plain = false
              step = s
            }
            return { base, step, plain }
          },
        },
        view (view) {
          current = view
          doc.on('beforeTransaction', write)
          return {
            update (view, prevState) {
              pending = null
              const change = /** @type {Change} */ (changeKey.getState(view.state))
              if (view.state.doc === prevState.doc || !change.plain || !change.step) return
              if (change.base !== prevState.doc) return
              pending = { before: prevState.doc, after: view.state.doc, step: change.step }
            },
            destroy () {
              doc.off('beforeTransaction', write)
              current = null
              pending = null
            },
          }
        },
      })]
    },
  })
}
