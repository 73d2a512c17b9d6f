// "Assigned to me" on the dashboard: a toggle that shows, instead of the documents, the open
// comment threads assigned to you (GET /api/assigned), each opening its document at the thread.
import { listAssigned } from '../shared/api.js'
import { h, icon } from '../shared/dom.js'

/**
 * @param {{button: HTMLButtonElement, section: HTMLElement, list: HTMLElement,
 *   others: HTMLElement[], closed: () => void}} parts
 */
export function mountAssigned ({ button, section, list, others, closed }) {
  /** @type {Map<HTMLElement, boolean>} what was hidden before the list was shown */
  const wasHidden = new Map()
  let on = false

  async function show () {
    list.setAttribute('aria-busy', 'true')
    try {
      const items = await listAssigned()
      list.replaceChildren(...items.map((item) => h('li', {},
        h('a', { class: 'hit', href: item.url },
          h('span', { class: 'hit-head' }, icon('message-square'),
            h('span', { class: 'hit-title' }, item.doc_title.trim() || 'Untitled document'),
            h('span', { class: 'hit-where' }, item.assigned_by ? `from ${item.assigned_by}` : '')),
          h('span', { class: 'hit-snippet' }, `“${item.quote}”`)))))
      if (items.length === 0) {
        list.replaceChildren(h('li', { class: 'assigned-empty' }, 'Nothing is assigned to you. When someone assigns you a comment, it shows here until you mark it done.'))
      }
    } catch (err) {
      list.replaceChildren(h('li', { class: 'assigned-empty' }, `Could not load: ${/** @type {Error} */ (err).message}`))
    } finally {
      list.setAttribute('aria-busy', 'false')
    }
  }

  /** @param {boolean} next */
  function set (next) {
    on = next
    button.setAttribute('aria-pressed', String(on))
    section.hidden = !on
    for (const element of others) {
      if (on) {
        wasHidden.set(element, element.hidden)
        element.hidden = true
      } else if (wasHidden.has(element)) {
        element.hidden = /** @type {boolean} */ (wasHidden.get(element))
      }
    }
    if (on) show()
    else closed()
  }

  button.addEventListener('click', () => set(!on))
  return { refresh: () => { if (on) show() }, get on () { return on } }
}
