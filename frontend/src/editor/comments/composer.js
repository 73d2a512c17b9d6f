// The small card that opens under a selection to write a new comment (never modal: the text
// stays editable; the passage keeps a "pending" tint while the comment is being written).
import { h } from '../../shared/dom.js'
import { bodyField } from './body-field.js'

/**
 * @param {import('@tiptap/core').Editor} editor
 * @param {{submit: (body: string) => void, cancel: () => void}} hooks
 */
export function createComposer (editor, hooks) {
  const field = bodyField({
    label: 'Your comment',
    placeholder: 'Add a comment…',
    submitLabel: 'Comment',
    onSubmit: (body) => {
      hooks.submit(body) // throws with a readable message if the comment cannot be made
      close(false)
    },
    onCancel: () => close(true),
  })
  const el = h('div', { class: 'popover comment-composer', role: 'dialog', 'aria-label': 'New comment', hidden: true },
    field.form)
  document.body.append(el)

  /** @param {number} to document position the card goes under */
  function open (to) {
    field.reset()
    el.hidden = false
    const at = editor.view.coordsAtPos(to)
    el.style.top = `${at.bottom + window.scrollY + 8}px`
    const width = el.offsetWidth || 340
    const left = Math.min(Math.max(8, at.left - 24), document.documentElement.clientWidth - width - 8)
    el.style.left = `${left + window.scrollX}px`
    field.focus()
  }

  /** @param {boolean} refocus give the focus back to the text */
  function close (refocus) {
    if (el.hidden) return
    el.hidden = true
    field.reset()
    hooks.cancel()
    if (refocus) editor.view.focus()
  }

  // A click elsewhere closes an empty composer; one with text in it stays (nothing is lost by
  // a stray click) until sent or cancelled.
  document.addEventListener('mousedown', (event) => {
    if (!el.hidden && !el.contains(/** @type {Node} */ (event.target)) && !field.value.trim()) close(false)
  })

  return {
    open,
    close,
    get isOpen () { return !el.hidden },
  }
}
