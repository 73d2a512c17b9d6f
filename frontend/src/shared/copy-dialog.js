// "Make a copy" (the dashboard's row menu, the editor's header): asks for the copy's title and
// whether to keep the comments, makes it (POST /api/docs/{id}/copy: a document of your own with
// the text as it stands) and opens it.
import { copyDoc } from './api.js'
import { h } from './dom.js'

const UNTITLED = 'Untitled document'
const MAX_TITLE = 500

/** @type {HTMLDialogElement | null} */
let open = null

/**
 * @param {{id: string, title: string}} doc
 * @param {HTMLElement | null} [opener] where the keyboard goes back to when the dialog closes
 */
export function askCopy (doc, opener = null) {
  open?.close()
  const titleInput = /** @type {HTMLInputElement} */ (h('input', {
    id: 'copy-title', name: 'title', type: 'text', required: true, maxlength: String(MAX_TITLE), autocomplete: 'off',
    value: `Copy of ${doc.title.trim() || UNTITLED}`.slice(0, MAX_TITLE),
  }))
  const comments = /** @type {HTMLInputElement} */ (h('input', { id: 'copy-comments', name: 'comments', type: 'checkbox' }))
  const problem = h('p', { class: 'field-error', role: 'alert' })
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary' }, 'Make a copy'))
  const cancel = h('button', { type: 'button', class: 'btn' }, 'Cancel')
  const form = h('form', { class: 'copy-form', novalidate: true },
    h('h2', { id: 'copy-heading' }, 'Make a copy'),
    h('p', { id: 'copy-text' }, 'A new document of your own with this text as it stands now. Nobody else is invited to it.'),
    h('div', { class: 'field' }, h('label', { for: 'copy-title' }, 'Title'), titleInput),
    h('label', { class: 'check', for: 'copy-comments' }, comments, 'Keep the comments'),
    problem,
    h('div', { class: 'row' }, cancel, submit))
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', {
    class: 'confirm copy-dialog', 'aria-labelledby': 'copy-heading', 'aria-describedby': 'copy-text',
  }, form))
  open = dialog
  document.body.append(dialog)

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const title = titleInput.value.replace(/\s+/g, ' ').trim()
    if (!title) {
      problem.textContent = 'Give the copy a title.'
      titleInput.focus()
      return
    }
    submit.disabled = true
    problem.textContent = ''
    try {
      const copy = await copyDoc(doc.id, { title, comments: comments.checked })
      location.assign(`/d/${encodeURIComponent(copy.id)}`)
    } catch (err) {
      problem.textContent = `Could not make a copy: ${/** @type {Error} */ (err).message}`
      submit.disabled = false
    }
  })
  cancel.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => {
    dialog.remove()
    if (open === dialog) open = null
    opener?.focus()
  })
  dialog.showModal()
  titleInput.select()
}
