// Links: a small dialog to add or edit one (Mod-K, toolbar) and a bubble under a link the
// cursor is in (open, edit, remove). Both float next to the text; neither blocks the page.
import { h, icon } from '../shared/dom.js'

const SAFE_SCHEMES = /^(https?:|mailto:|tel:)/i

/**
 * Make what someone typed into an href we accept, or null.
 * "example.com/x" -> "https://example.com/x", "a@b.org" -> "mailto:a@b.org"; no javascript:.
 * @param {string} raw
 * @returns {string | null}
 */
export function normalizeHref (raw) {
  const value = raw.trim()
  if (!value) return null
  if (SAFE_SCHEMES.test(value)) return value
  if (/^[a-z][a-z0-9+.-]*:/i.test(value)) return null // some other scheme: refuse
  if (/^[^\s@/]+@[^\s@/]+\.[^\s@/]+$/.test(value)) return `mailto:${value}`
  if (value.startsWith('#') || value.startsWith('/')) return value
  return `https://${value}`
}

/**
 * Put a floating element (a dialog, a bubble) under the current selection, inside the viewport.
 * @param {import('@tiptap/core').Editor} editor @param {HTMLElement} el
 */
export function placeUnderSelection (editor, el) {
  const at = editor.view.coordsAtPos(editor.state.selection.from)
  el.style.top = `${at.bottom + window.scrollY + 8}px`
  const width = el.offsetWidth || 320
  const left = Math.min(Math.max(8, at.left - 16), document.documentElement.clientWidth - width - 8)
  el.style.left = `${left + window.scrollX}px`
}

/** @param {import('@tiptap/core').Editor} editor */
export function createLinkUi (editor) {
  const hrefInput = /** @type {HTMLInputElement} */ (h('input', {
    type: 'text', inputmode: 'url', name: 'href', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'https://example.com', 'aria-describedby': 'link-error',
  }))
  const textInput = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'text', autocomplete: 'off' }))
  const textRow = h('label', { class: 'field' }, h('span', {}, 'Text'), textInput)
  const error = h('p', { class: 'field-error', id: 'link-error', role: 'alert' })
  const removeButton = h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'remove' }, 'Remove link')
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'link-form', novalidate: true },
    textRow,
    h('label', { class: 'field' }, h('span', {}, 'Link'), hrefInput),
    error,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      removeButton,
      h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'cancel' }, 'Cancel')),
  ))
  const dialog = h('div', { class: 'popover link-dialog', role: 'dialog', 'aria-label': 'Edit link', hidden: true }, form)

  const bubbleLink = /** @type {HTMLAnchorElement} */ (h('a', { class: 'bubble-href', target: '_blank', rel: 'noopener noreferrer' }))
  const bubble = h('div', { class: 'popover link-bubble', role: 'group', 'aria-label': 'Link', hidden: true },
    icon('external-link'), bubbleLink,
    h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'edit' }, 'Edit'),
    h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'unlink', 'aria-label': 'Remove link' }, icon('unlink')),
  )
  document.body.append(dialog, bubble)

  const place = (/** @type {HTMLElement} */ el) => placeUnderSelection(editor, el)

  function open () {
    if (!editor.isEditable) return
    bubble.hidden = true
    const inLink = editor.isActive('link')
    if (inLink) editor.chain().extendMarkRange('link').run()
    const { empty } = editor.state.selection
    hrefInput.value = inLink ? editor.getAttributes('link').href || '' : ''
    textInput.value = ''
    textRow.hidden = !empty
    removeButton.hidden = !inLink
    error.textContent = ''
    dialog.hidden = false
    place(dialog)
    ;(empty ? textInput : hrefInput).focus()
    if (!empty) hrefInput.select()
  }

  function close (refocus = true) {
    if (dialog.hidden) return
    dialog.hidden = true
    if (refocus) editor.view.focus()
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    editor.view.focus() // now, not on the next frame: the next keystroke belongs to the text
    const href = normalizeHref(hrefInput.value)
    if (!href) {
      error.textContent = hrefInput.value.trim() ? 'That link cannot be used. Try a web address like example.com.' : 'Type a web address.'
      hrefInput.focus()
      return
    }
    const { empty } = editor.state.selection
    if (empty && !editor.isActive('link')) {
      const text = textInput.value.trim() || href.replace(/^mailto:/, '')
      editor.chain().focus()
        .insertContent({ type: 'text', text, marks: [{ type: 'link', attrs: { href } }] })
        .command(({ tr, state }) => {
          tr.removeStoredMark(state.schema.marks.link) // what is typed next is not part of the link
          return true
        })
        .run()
    } else {
      editor.chain().focus().extendMarkRange('link').setLink({ href }).run()
    }
    close(false)
  })
  form.addEventListener('click', (event) => {
    const action = /** @type {HTMLElement} */ (event.target).closest('[data-action]')?.getAttribute('data-action')
    if (action === 'cancel') close()
    if (action === 'remove') {
      editor.view.focus()
      editor.chain().focus().extendMarkRange('link').unsetLink().run()
      close(false)
    }
  })
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      close()
    }
  })
  // A click elsewhere closes the dialog (but keep a click into the text from moving focus back).
  document.addEventListener('mousedown', (event) => {
    if (!dialog.hidden && !dialog.contains(/** @type {Node} */ (event.target))) close(false)
  })

  bubble.addEventListener('mousedown', (event) => {
    if (/** @type {HTMLElement} */ (event.target).closest('button')) event.preventDefault()
  })
  bubble.addEventListener('click', (event) => {
    const action = /** @type {HTMLElement} */ (event.target).closest('[data-action]')?.getAttribute('data-action')
    if (action === 'edit') open()
    if (action === 'unlink') editor.chain().focus().extendMarkRange('link').unsetLink().run()
  })

  let frame = 0
  function refreshBubble () {
    frame = 0
    const show = editor.isFocused && editor.isActive('link') && editor.state.selection.empty && dialog.hidden
    if (!show) {
      bubble.hidden = true
      return
    }
    const href = editor.getAttributes('link').href || ''
    bubbleLink.href = normalizeHref(href) || '#'
    bubbleLink.textContent = href.replace(/^https?:\/\//, '').replace(/^mailto:/, '')
    bubbleLink.title = href
    bubble.hidden = false
    place(bubble)
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(refreshBubble) }
  editor.on('selectionUpdate', schedule)
  editor.on('focus', schedule)
  editor.on('blur', ({ event }) => {
    // keep the bubble while focus moves into it
    if (event && bubble.contains(/** @type {Node} */ (event.relatedTarget))) return
    schedule()
  })

  return { open }
}
