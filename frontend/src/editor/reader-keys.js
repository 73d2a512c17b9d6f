// Keyboard selection for readers (commenters and viewers). Their text is not editable, so the
// browser moves no caret with the keys and a keyboard-only commenter could not select what to
// comment on. Here, while the text is not editable but focused (it is in the Tab order), the
// arrow keys, Home/End (with Ctrl: the document's ends) and Ctrl+A move and extend the page's
// selection (Selection.modify, as caret browsing does) and a caret is drawn where it is;
// Shift extends, Ctrl moves by words. The selection is the editor's (it reads the page's), so
// Ctrl+Alt+M comments on it.
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'

const key = new PluginKey('readerKeys')

/** @type {Record<string, [string, string]>} key -> [direction, granularity] */
const MOVES = {
  ArrowLeft: ['backward', 'character'],
  ArrowRight: ['forward', 'character'],
  ArrowUp: ['backward', 'line'],
  ArrowDown: ['forward', 'line'],
  Home: ['backward', 'lineboundary'],
  End: ['forward', 'lineboundary'],
}

/** @param {import('@tiptap/pm/view').EditorView} view @param {KeyboardEvent} event */
function move (view, event) {
  const selection = /** @type {any} */ (view.root).getSelection()
  if (!selection) return false
  if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'a' && !event.altKey) {
    selection.selectAllChildren(view.dom)
    return true
  }
  const found = MOVES[event.key]
  if (!found || event.altKey) return false
  let [direction, granularity] = found
  if (event.ctrlKey || event.metaKey) {
    if (granularity === 'character') granularity = 'word'
    else if (granularity === 'lineboundary') granularity = 'documentboundary'
    else if (granularity === 'line') granularity = 'paragraph'
  }
  if (!selection.rangeCount || !view.dom.contains(selection.focusNode)) {
    // nothing selected in the text yet: start at its beginning
    const first = view.dom.firstElementChild ?? view.dom
    selection.collapse(first, 0)
  }
  selection.modify(event.shiftKey ? 'extend' : 'move', direction, granularity)
  return true
}

/** The readers' caret: drawn over the text (never in it: a widget in the text would redraw the
 * line and put back an older selection while the keys are moving it). */
function caretView (/** @type {import('@tiptap/pm/view').EditorView} */ view) {
  const caret = document.createElement('div')
  caret.className = 'reader-caret'
  caret.setAttribute('aria-hidden', 'true')
  caret.hidden = true
  const host = /** @type {HTMLElement} */ (view.dom.parentElement)
  host.style.position ||= 'relative'
  host.append(caret)
  const place = () => {
    const selection = /** @type {any} */ (view.root).getSelection()
    const show = !view.editable && view.hasFocus() && selection && selection.isCollapsed && view.dom.contains(selection.focusNode)
    caret.hidden = !show
    if (!show) return
    const range = document.createRange()
    range.setStart(selection.focusNode, selection.focusOffset)
    const rect = range.getClientRects()[0] ?? /** @type {Element} */ (selection.focusNode.nodeType === 1 ? selection.focusNode : selection.focusNode.parentElement).getBoundingClientRect()
    const box = host.getBoundingClientRect()
    caret.style.left = `${rect.left - box.left}px`
    caret.style.top = `${rect.top - box.top}px`
    caret.style.height = `${Math.max(rect.height, 16)}px`
  }
  const onSelection = () => requestAnimationFrame(place)
  document.addEventListener('selectionchange', onSelection)
  view.dom.addEventListener('focus', onSelection)
  view.dom.addEventListener('blur', onSelection)
  return {
    update: onSelection,
    destroy () {
      document.removeEventListener('selectionchange', onSelection)
      view.dom.removeEventListener('focus', onSelection)
      view.dom.removeEventListener('blur', onSelection)
      caret.remove()
    },
  }
}

export const ReaderKeys = Extension.create({
  name: 'readerKeys',
  addProseMirrorPlugins () {
    return [new Plugin({
      key,
      view: caretView,
      props: {
        handleDOMEvents: {
          keydown: (view, event) => {
            if (view.editable || !move(view, event)) return false
            event.preventDefault()
            return true
          },
        },
      },
    })]
  },
})
