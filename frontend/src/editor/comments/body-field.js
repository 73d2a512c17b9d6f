// The text box used to write a comment, a reply or an edit: grows with its text, shows a
// counter near the length limit and refuses (with a sentence saying why) a body that is too long.
// Ctrl/Cmd+Enter sends, Escape cancels.
import { formatKeys, h } from '../../shared/dom.js'
import { attachMentionPicker } from './mention-picker.js'
import { bodyProblem, counterText } from './store.js'

let fieldCount = 0

/**
 * @param {{
 *   label: string, placeholder?: string, submitLabel: string, value?: string,
 *   onSubmit: (body: string) => (void | Promise<void>),
 *   onCancel?: () => void,
 *   cancelLabel?: string,
 * }} options
 */
export function bodyField ({ label, placeholder = '', submitLabel, value = '', onSubmit, onCancel, cancelLabel = 'Cancel' }) {
  const id = `comment-field-${++fieldCount}`
  const textarea = /** @type {HTMLTextAreaElement} */ (h('textarea', {
    class: 'comment-input', rows: '2', 'aria-label': label, placeholder,
    'aria-describedby': `${id}-error ${id}-count`,
  }))
  textarea.value = value
  const picks = attachMentionPicker(textarea) // registered first: its keys go before ours
  const counter = h('span', { class: 'comment-count', id: `${id}-count` })
  const error = h('p', { class: 'field-error', id: `${id}-error`, role: 'alert' })
  const submit = h('button', {
    type: 'submit', class: 'btn btn-primary btn-small', 'data-tip': `${submitLabel} (${formatKeys('Mod-Enter')})`,
  }, submitLabel)
  const cancel = onCancel ? h('button', { type: 'button', class: 'btn btn-quiet btn-small', 'data-action': 'cancel' }, cancelLabel) : null
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'comment-form', novalidate: true },
    textarea, picks, error,
    h('div', { class: 'comment-form-row' }, counter, h('span', { class: 'spacer' }), cancel, submit)))

  let showEmptyError = false
  function check () {
    const text = textarea.value
    const problem = bodyProblem(text)
    counter.textContent = counterText(text)
    const over = problem !== null && text.trim() !== ''
    counter.classList.toggle('is-over', over)
    form.classList.toggle('is-invalid', over)
    error.textContent = over || (problem && showEmptyError) ? problem || '' : ''
    submit.setAttribute('aria-disabled', String(problem !== null))
    return problem
  }

  let busy = false
  async function send () {
    showEmptyError = true
    const problem = check()
    if (problem || busy) {
      textarea.focus()
      return
    }
    busy = true
    try {
      await onSubmit(textarea.value)
      showEmptyError = false
    } catch (err) {
      error.textContent = err instanceof Error ? err.message : String(err)
    } finally {
      busy = false
    }
  }

  textarea.addEventListener('input', () => { showEmptyError = false; check() })
  textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault()
      send()
    } else if (event.key === 'Escape' && onCancel) {
      event.preventDefault()
      event.stopPropagation()
      onCancel()
    }
  })
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    send()
  })
  cancel?.addEventListener('click', () => onCancel?.())
  check()

  return {
    form,
    textarea,
    /** @param {string} [text] */
    reset (text = '') {
      textarea.value = text
      showEmptyError = false
      check()
    },
    focus () {
      textarea.focus()
      textarea.setSelectionRange(textarea.value.length, textarea.value.length)
    },
    get value () { return textarea.value },
  }
}
