// The picture tools: "Insert image" (a file picker) and a small dialog for the selected
// image's alt text and caption (Mod-Alt-Y, the toolbar, or a double-click on the picture).
import { h } from '../shared/dom.js'
import { IMAGE_TYPES, selectedImage } from './figures.js'
import { normalizeHref, placeUnderSelection } from './link.js'

/**
 * @param {import('@tiptap/core').Editor} editor
 * @param {(editor: import('@tiptap/core').Editor, files: File[], pos: number) => Promise<number | null>} insertFiles
 */
export function createFigureUi (editor, insertFiles) {
  const picker = /** @type {HTMLInputElement} */ (h('input', {
    type: 'file', accept: IMAGE_TYPES.join(','), multiple: true, hidden: true, 'aria-hidden': 'true', tabindex: '-1',
  }))
  const altInput = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'alt', maxlength: '500', autocomplete: 'off' }))
  const captionInput = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'caption', maxlength: '500', autocomplete: 'off' }))
  const hrefInput = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'href', inputmode: 'url', maxlength: '2000', autocomplete: 'off', spellcheck: 'false', placeholder: 'https://example.com' }))
  const error = h('p', { class: 'field-error', role: 'alert' })
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'link-form figure-form', novalidate: true },
    h('label', { class: 'field' }, h('span', {}, 'Alt text (read aloud to people who cannot see it)'), altInput),
    h('label', { class: 'field' }, h('span', {}, 'Caption (shown under the picture)'), captionInput),
    h('label', { class: 'field' }, h('span', {}, 'Link (optional)'), hrefInput),
    error,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'btn btn-primary' }, 'Apply'),
      h('button', { type: 'button', class: 'btn btn-quiet', 'data-action': 'cancel' }, 'Cancel')),
  ))
  const dialog = h('div', { class: 'popover link-dialog figure-dialog', role: 'dialog', 'aria-label': 'Image description', hidden: true }, form)
  document.body.append(dialog, picker)
  /** @type {number | null} */
  let at = null

  /** Open the dialog for the selected image. */
  function describe () {
    const node = selectedImage(editor)
    if (!node || !editor.isEditable) return
    at = editor.state.selection.from
    altInput.value = node.attrs.alt || ''
    captionInput.value = node.attrs.title || ''
    hrefInput.value = node.attrs.href || ''
    error.textContent = ''
    dialog.hidden = false
    placeUnderSelection(editor, dialog)
    altInput.focus()
    altInput.select()
  }

  function close (refocus = true) {
    if (dialog.hidden) return
    dialog.hidden = true
    if (refocus) editor.commands.focus()
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const node = at === null ? null : editor.state.doc.nodeAt(at)
    const href = hrefInput.value.trim() ? normalizeHref(hrefInput.value) : null
    if (hrefInput.value.trim() && !href) {
      error.textContent = 'That link cannot be used. Try a web address like example.com.'
      hrefInput.focus()
      return
    }
    if (at !== null && node?.type.name === 'image') {
      editor.chain().focus().setNodeSelection(at).updateAttributes('image', {
        alt: altInput.value.trim() || null,
        title: captionInput.value.trim() || null,
        href,
      }).run()
    }
    close(false)
  })
  form.addEventListener('click', (event) => {
    if (/** @type {HTMLElement} */ (event.target).closest('[data-action="cancel"]')) close()
  })
  dialog.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault()
      close()
    }
  })
  document.addEventListener('mousedown', (event) => {
    if (!dialog.hidden && !dialog.contains(/** @type {Node} */ (event.target))) close(false)
  })
  editor.view.dom.addEventListener('dblclick', (event) => {
    if (/** @type {HTMLElement} */ (event.target).closest('.figure')) describe()
  })

  /** Choose files, insert them at the cursor, then ask for the first one's description. */
  function pick () {
    if (!editor.isEditable) return
    picker.value = ''
    picker.click()
  }
  picker.addEventListener('change', async () => {
    const files = Array.from(picker.files || [])
    if (!files.length) return
    const pos = await insertFiles(editor, files, editor.state.selection.from)
    if (pos !== null && editor.state.doc.nodeAt(pos)?.type.name === 'image') {
      editor.chain().focus().setNodeSelection(pos).run()
      describe()
    } else {
      editor.commands.focus()
    }
  })

  return { pick, describe }
}
