// Home, End, Shift+Home and Shift+End, moved by the editor itself. Left to the browser, they stop
// at another person's caret (an inline widget that is not editable): with a co-author's caret at
// the start of a line, Home then Shift+End selected nothing. Here the line's ends are found from
// where the text is drawn, so wrapped lines behave as lines, as the browser's own keys do.
import { Extension } from '@tiptap/core'
import { TextSelection } from '@tiptap/pm/state'

/**
 * The document position at the start or end of the visual line holding `pos`.
 * @param {import('@tiptap/pm/view').EditorView} view @param {number} pos @param {'start'|'end'} side
 */
function lineEdge (view, pos, side) {
  const $pos = view.state.doc.resolve(pos)
  if (!$pos.parent.isTextblock) return pos
  const blockStart = $pos.start()
  const blockEnd = $pos.end()
  const here = view.coordsAtPos(pos)
  const middle = (here.top + here.bottom) / 2
  const box = view.dom.getBoundingClientRect()
  const found = view.posAtCoords({ left: side === 'start' ? box.left + 1 : box.right - 1, top: middle })
  let edge = found ? found.pos : (side === 'start' ? blockStart : blockEnd)
  edge = Math.min(Math.max(edge, blockStart), blockEnd)
  // posAtCoords may land on the next/previous line's edge in a wrapped block: keep to this row
  const at = view.coordsAtPos(edge, side === 'start' ? 1 : -1)
  if (Math.abs((at.top + at.bottom) / 2 - middle) > (here.bottom - here.top) / 2) {
    edge = side === 'start' ? blockStart : blockEnd
  }
  return edge
}

/** @param {'start'|'end'} side @param {boolean} extend */
function move (side, extend) {
  return (/** @type {{editor: import('@tiptap/core').Editor}} */ { editor }) => {
    const { view } = editor
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
