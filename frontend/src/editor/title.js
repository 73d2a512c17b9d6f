// The document title in the header, shared live through Y.Map("meta").title.
// The server mirrors that key into its documents table (dashboard, search).

const UNTITLED = 'Untitled document'

/**
 * @param {{
 *   doc: import('yjs').Doc,
 *   input: HTMLInputElement,
 *   onEnter: () => void,
 * }} options
 * @returns {{ setFallback: (title: string) => void }}
 */
export function mountTitle ({ doc, input, onEnter }) {
  const meta = doc.getMap('meta')
  let fallback = input.value

  function current () {
    const title = meta.get('title')
    return typeof title === 'string' ? title : fallback
  }

  function show () {
    const title = current()
    if (input.value !== title) {
      if (document.activeElement === input) {
        const { selectionStart, selectionEnd } = input
        input.value = title
        input.setSelectionRange(selectionStart, selectionEnd)
      } else {
        input.value = title
      }
    }
    document.title = `${title.trim() || UNTITLED} — Quire`
  }

  input.addEventListener('input', () => {
    meta.set('title', input.value.slice(0, 200))
  })
  input.addEventListener('blur', () => {
    const trimmed = input.value.replace(/\s+/g, ' ').trim()
    if (trimmed !== input.value) meta.set('title', trimmed)
  })
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault()
      onEnter()
    } else if (event.key === 'Escape') {
      input.blur()
    }
  })
  meta.observe(show)
  show()

  return {
    /** The title from the REST API, shown until the document's own title arrives. */
    setFallback (title) {
      fallback = title
      show()
    },
  }
}
