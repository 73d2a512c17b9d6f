// The caret the person sees is the one the page draws, and the editor learns of a move made by the
// browser itself (arrow keys, a click) only when the browser fires `selectionchange`. Chromium 156
// fires it late and coalesced. A redraw in between (a co-author's letter, their caret moving, a
// comment highlight) put the editor's older caret back on the page: arrow presses were lost and
// the next letters landed where the caret had been. So after such a move, until the browser has
// told, the editor's selection is taken from the page before any change, before any key is
// handled (a shortcut acts on what is selected), and before Home/End are worked out
// (line-keys.js). Only then: at other times the page's selection may be the older one
// (focus coming back from a dialog puts the browser's caret at the start until the editor draws).
//
// The Yjs binding (y-tiptap) restores, after a change from elsewhere, the selection it noted
// before, checking its Yjs positions against the absolute ones noted with them. A noted
// selection can be older than the editor's document (undo restores the one noted when the undone
// change was made), and an absolute position past the document's end threw: "Caught error while
// handling a Yjs update RangeError: Position N out of range" — and that update never reached the
// view (three people editing at random: some runs in ten). Such positions are dropped before
// the binding reads them: the Yjs positions alone then say where the selection goes.
import { Extension } from '@tiptap/core'
import { Plugin, TextSelection } from '@tiptap/pm/state'
import { ySyncPluginKey } from '@tiptap/y-tiptap'

/** Keys whose moves the browser makes by itself (the editor's keymaps leave them alone). */
const MOVING_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'PageUp', 'PageDown', 'Home', 'End'])

/** Views whose page selection moved (a moving key, a press of the mouse) since the browser last
 * said so with `selectionchange`. @type {WeakSet<import('@tiptap/pm/view').EditorView>} */
const moved = new WeakSet()

/**
 * The selection drawn in the page, as document positions, when it lies in the editor's text.
 * @param {import('@tiptap/pm/view').EditorView} view
 * @returns {{anchor: number, head: number} | null}
 */
function domSelection (view) {
  const sel = /** @type {Selection | null} */ (/** @type {any} */ (view.root).getSelection())
  if (!sel || !sel.anchorNode || !sel.focusNode) return null
  if (!view.dom.contains(sel.anchorNode) || !view.dom.contains(sel.focusNode)) return null
  try {
    const size = view.state.doc.content.size
    const anchor = view.posAtDOM(sel.anchorNode, sel.anchorOffset)
    const head = view.posAtDOM(sel.focusNode, sel.focusOffset)
    if (anchor < 0 || head < 0 || anchor > size || head > size) return null
    return { anchor, head }
  } catch {
    return null // inside a widget (another person's caret): the editor's own state holds
  }
}

/**
 * Where the page's caret is, when it is a text caret or range the editor has not read yet.
 * Node and cell selections, compositions and an unfocused editor are left alone.
 * @param {import('@tiptap/pm/view').EditorView} view
 * @returns {{anchor: number, head: number} | null}
 */
function unreadSelection (view) {
  if (!moved.has(view) || view.isDestroyed || view.composing || !view.hasFocus()) return null
  const { selection, doc } = view.state
  if (!(selection instanceof TextSelection)) return null
  const seen = domSelection(view)
  if (!seen || (seen.anchor === selection.anchor && seen.head === selection.head)) return null
  if (!doc.resolve(seen.anchor).parent.inlineContent || !doc.resolve(seen.head).parent.inlineContent) return null
  return seen
}

/**
 * Bring the editor's selection in line with the page's now.
 * @param {import('@tiptap/pm/view').EditorView} view
 */
export function catchUpSelection (view) {
  const seen = unreadSelection(view)
  if (!seen) return
  const { doc, tr } = view.state
  view.dispatch(tr.setSelection(TextSelection.between(doc.resolve(seen.anchor), doc.resolve(seen.head))))
}

/**
 * Every change that does not set a selection of its own keeps the page's, mapped through it.
 * A change to the shared document sets one (the Yjs binding restores the selection it noted when
 * the change began), so the editor catches up before any such change.
 * @param {import('yjs').Doc} doc
 */
export function selectionFromPage (doc) {
  return Extension.create({
    name: 'selectionFromPage',
    priority: 1000, // its plugin view starts before the Yjs binding's: it catches up first
    addProseMirrorPlugins () {
      /** @type {import('@tiptap/pm/view').EditorView | null} */
      let current = null
      const catchUp = () => { if (current) catchUpSelection(current) }
      const dropStalePositions = () => {
        const binding = current && ySyncPluginKey.getState(current.state)?.binding
        const noted = binding?.beforeTransactionSelection
        if (!noted || !binding.prosemirrorView) return
        const size = binding.prosemirrorView.state.doc.content.size
        if (noted.absAnchor > size || noted.absHead > size) {
          binding.beforeTransactionSelection = { ...noted, absAnchor: null, absHead: null }
        }
      }
      return [new Plugin({
        view (view) {
          current = view
          const onKey = (/** @type {KeyboardEvent} */ event) => { if (MOVING_KEYS.has(event.key)) moved.add(view) }
          const onPress = () => { moved.add(view) }
          const told = () => { moved.delete(view) } // the editor reads the page's selection now
          view.dom.addEventListener('keydown', onKey)
          view.dom.addEventListener('mousedown', onPress)
          document.addEventListener('selectionchange', told)
          doc.on('beforeAllTransactions', catchUp)
          doc.on('beforeObserverCalls', dropStalePositions) // before the binding's observer
          return {
            destroy () {
              view.dom.removeEventListener('keydown', onKey)
              view.dom.removeEventListener('mousedown', onPress)
              document.removeEventListener('selectionchange', told)
              doc.off('beforeAllTransactions', catchUp)
              doc.off('beforeObserverCalls', dropStalePositions)
              current = null
            },
          }
        },
        props: {
          // a shortcut pressed just after a move acts on the selection the person sees (Ctrl+Alt+M
          // after Shift+arrows commented one character short); runs before the keymaps
          handleKeyDown (view) {
            catchUpSelection(view)
            return false
          },
        },
        appendTransaction (transactions, _old, state) {
          if (!current || transactions.some((tr) => tr.selectionSet)) return null
          const seen = unreadSelection(current) // read against the page as it is: the old state
          if (!seen) return null
          let { anchor, head } = seen
          for (const tr of transactions) {
            anchor = tr.mapping.map(anchor)
            head = tr.mapping.map(head)
          }
          const $anchor = state.doc.resolve(anchor)
          const $head = state.doc.resolve(head)
          if (!$anchor.parent.inlineContent || !$head.parent.inlineContent) return null
          return state.tr.setSelection(TextSelection.between($anchor, $head)).setMeta('addToHistory', false)
        },
      })]
    },
  })
}
