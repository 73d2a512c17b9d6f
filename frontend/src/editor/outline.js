// The outline: every heading of the document (levels 1–6) in a side panel, kept live as people
// edit; choosing one puts the caret at its start and scrolls there; the section being read is
// marked (aria-current) as the page scrolls or the caret moves.
import { TextSelection } from '@tiptap/pm/state'
import { h, icon } from '../shared/dom.js'

/** @typedef {{level: number, text: string, pos: number}} Heading */

/** @param {import('@tiptap/pm/model').Node} doc @returns {Heading[]} */
export function headingsOf (doc) {
  /** @type {Heading[]} */
  const found = []
  doc.descendants((node, pos) => {
    if (node.type.name === 'heading') {
      found.push({ level: Number(node.attrs.level) || 1, text: node.textContent, pos })
      return false
    }
    return node.type.name !== 'paragraph' && node.type.name !== 'codeBlock'
  })
  return found
}

/**
 * @param {{editor: import('@tiptap/core').Editor, panel: HTMLElement, button: HTMLElement,
 *   panels: ReturnType<typeof import('./panels.js').createPanels>}} parts
 */
export function mountOutline ({ editor, panel, button, panels }) {
  const view = editor.view
  const closeButton = h('button', { type: 'button', class: 'btn-icon btn-small', 'aria-label': 'Close outline', 'data-tip': 'Close' }, icon('x'))
  const list = h('ol', { class: 'outline-list' })
  const empty = h('p', { class: 'outline-empty' }, 'Headings you add appear here. Use the style picker, or Ctrl+Alt+1 to 6.')
  panel.replaceChildren(
    h('div', { class: 'side-head' }, h('h2', { id: 'outline-title' }, 'Outline'), closeButton),
    h('nav', { 'aria-labelledby': 'outline-title' }, list), empty)
  /** @type {Heading[]} */
  let headings = []
  let shown = ''
  let frame = 0

  function render () {
    frame = 0
    if (!panels.isOpen('outline')) return
    headings = headingsOf(view.state.doc)
    const key = JSON.stringify(headings.map((x) => [x.level, x.text]))
    if (key !== shown) {
      shown = key
      list.replaceChildren(...headings.map((x, i) => h('li', { class: `outline-item level-${x.level}` },
        h('button', { type: 'button', class: 'outline-link', 'data-index': String(i) }, x.text.trim() || 'Untitled heading'))))
      empty.hidden = headings.length > 0
    }
    markCurrent()
  }

  /** The section being read: the one at the top of the window once the page is scrolled,
   * else the one holding the caret. */
  function markCurrent () {
    let current = -1
    if (window.scrollY > 0) {
      const top = 140 // below the sticky header, toolbar and find bar
      headings.forEach((x, i) => {
        const dom = view.nodeDOM(x.pos)
        if (dom instanceof HTMLElement && dom.getBoundingClientRect().top <= top) current = i
      })
    } else {
      const caret = view.state.selection.from
      headings.forEach((x, i) => { if (x.pos < caret) current = i })
    }
    if (current < 0 && headings.length) current = 0
    list.querySelectorAll('.outline-link').forEach((link, i) => {
      if (i === current) link.setAttribute('aria-current', 'location')
      else link.removeAttribute('aria-current')
    })
  }

  const schedule = () => { if (!frame) frame = requestAnimationFrame(render) }
  editor.on('update', schedule) // others' edits arrive as updates too
  editor.on('selectionUpdate', () => { if (panels.isOpen('outline')) markCurrent() })
  window.addEventListener('scroll', () => { if (panels.isOpen('outline')) requestAnimationFrame(markCurrent) }, { passive: true })

  list.addEventListener('click', (event) => {
    const link = /** @type {HTMLElement} */ (event.target).closest('.outline-link')
    if (!link) return
    const heading = headings[Number(link.getAttribute('data-index'))]
    if (!heading) return
    const at = Math.min(heading.pos + 1, view.state.doc.content.size)
    view.dispatch(view.state.tr.setSelection(TextSelection.create(view.state.doc, at)))
    view.focus()
    const dom = view.nodeDOM(heading.pos)
    if (dom instanceof HTMLElement) {
      dom.scrollIntoView({ block: 'start' })
      window.scrollBy({ top: -130 }) // clear of the sticky header and toolbar
    }
    if (!panels.wide) panels.close('outline')
  })
  panels.wire('outline', { button, panel, closeButton, onChange: (open) => {
    if (open) {
      shown = ''
      render()
    }
  } })
}
