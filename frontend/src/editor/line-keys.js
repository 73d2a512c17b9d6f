// Home, End, Shift+Home and Shift+End, moved by the editor itself. Left to the browser, they stop
// at another person's caret (an inline widget that is not editable): with a co-author's caret at
// the start of a line, Home then Shift+End selected nothing. Here the line's ends are found from
// where the text is drawn, so wrapped lines behave as lines, as the browser's own keys do.
import { Extension } from '@tiptap/core'
import { TextSelection } from '@tiptap/pm/state'
import { catchUpSelection } from './selection-sync.js'

/**
 * The document position at the start or end of the visual line holding `pos`: the farthest
 * position of the block, on that side, whose caret is drawn on the same row. Found by bisection
 * over the block's positions (rows only grow along a block), never by hit-testing a point near the
 * margin, which browsers answer differently (Chromium 156 put the margin's point at the line end).
 * @param {import('@tiptap/pm/view').EditorView} view @param {number} pos @param {'start'|'end'} side
 */
function lineEdge (view, pos, side) {
  const $pos = view.state.doc.resolve(pos)
  if (!$pos.parent.isTextblock) return pos
  const here = view.coordsAtPos(pos)
  const middle = (here.top + here.bottom) / 2
  const half = Math.max((here.bottom - here.top) / 2, 1)
  const sameRow = (/** @type {number} */ p) => {
    const at = view.coordsAtPos(p, side === 'start' ? 1 : -1)
    return Math.abs((at.top + at.bottom) / 2 - middle) < half
  }
  if (side === 'start') {
    let lo = $pos.start(), hi = pos // hi is on the row; find the first position that is
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2)
      if (sameRow(mid)) hi = mid; else lo = mid + 1
    }
    return hi
  }
  let lo = pos, hi = $pos.end() // lo is on the row; find the last position that is
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2)
    if (sameRow(mid)) lo = mid; else hi = mid - 1
  }
  return lo
}

/** @param {'start'|'end'} side @param {boolean} extend */
function move (side, extend) {
  return (/** @type {{editor: import('@tiptap/core').Editor}} */ { editor }) => {
    const { view } = editor
    // A key pressed just after a click may come before the editor has read where the click put
    // the caret; moving from a stale caret to where it already was would leave the page's alone.
    catchUpSelection(view)
    const { selection } = view.state
    if (!(selection instanceof TextSelection)) return false
    const edge = lineEdge(view, selection.head, side)
    const next = TextSelection.create(view.state.doc, extend ? selection.anchor : edge, edge)
    view.dispatch(view.state.tr.setSelection(next).scrollIntoView())
    return true
  }
}

export const LineKeys = Extension.create({
  name: 'lineKeys',
  addKeyboardShortcuts () {
    return {
      Home: move('start', false),
      End: move('end', false),
      'Shift-Home': move('start', true),
      'Shift-End': move('end', true),
    }
  },
})
