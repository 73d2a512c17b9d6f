// @mentions in the document's text: typing "@" and a few letters suggests the people who can
// read the document (GET /api/docs/{id}/people); ArrowUp/ArrowDown choose, Enter or Tab insert,
// Escape closes. The mention is Tiptap's Mention node holding the account id (what the server
// reads to notify them: server/notify.py), the display name shown and the username (exported
// to Markdown as @username).
import Mention from '@tiptap/extension-mention'
import { inviteToDoc, listPeople } from '../shared/api.js'
import { h } from '../shared/dom.js'
import { matchPeople } from '../shared/mentions.js'

const USERNAME = /^[A-Za-z0-9_.-]{2,40}$/

/**
 * The suggestion list under the caret. Nobody matching: the owner is offered to share the
 * document with that username (as commenter) and mention them — taken only when chosen with
 * ArrowDown, so Enter at the end of a line that happens to end in "@name" stays a new line;
 * anyone else is told that nobody by that name can see the document.
 * @param {{canShare: () => boolean, share: (username: string) => Promise<import('../shared/api.js').DocPerson | null>}} sharing
 */
function suggestionList ({ canShare, share }) {
  /** @type {HTMLElement | null} */
  let box = null
  /** @type {import('../shared/api.js').DocPerson[]} */
  let items = []
  let active = 0
  /** @type {any} */
  let props = null
  let offerChosen = false // the share offer is taken only once chosen (ArrowDown): never by a stray Enter

  function draw () {
    if (!box || !props) return
    const query = String(props.query || '')
    if (items.length === 0 && canShare() && USERNAME.test(query)) {
      const option = h('div', { id: 'mention-option-0', class: 'mention-option', role: 'option', 'aria-selected': String(offerChosen) },
        h('span', { class: 'mention-name' }, `Share with @${query} and mention them`),
        h('span', { class: 'mention-username' }, 'can comment'))
      option.addEventListener('mousedown', (event) => { event.preventDefault(); invite() })
      box.replaceChildren(option)
    } else if (items.length === 0) {
      box.replaceChildren(h('div', { class: 'mention-empty', role: 'status' },
        query ? `Nobody called “${query}” can see this document` : 'Nobody else can see this document yet'))
    } else {
      box.replaceChildren(...items.map((person, i) => {
        const option = h('div', {
          id: `mention-option-${i}`, class: 'mention-option', role: 'option', 'aria-selected': String(i === active),
        }, h('span', { class: 'mention-name' }, person.display_name),
        h('span', { class: 'mention-username' }, `@${person.username}`))
        option.addEventListener('mousedown', (event) => { event.preventDefault(); pick(i) })
        return option
      }))
    }
    const rect = props.clientRect?.()
    if (rect) {
      box.style.left = `${Math.round(rect.left + window.scrollX)}px`
      box.style.top = `${Math.round(rect.bottom + window.scrollY + 4)}px`
    }
    const chosen = items.length || offerChosen
    props.editor.view.dom.setAttribute('aria-activedescendant', chosen && box.querySelector('[role="option"]') ? `mention-option-${active}` : '')
  }

  async function invite () {
    const current = props
    if (!current) return
    const username = String(current.query || '')
    const person = await share(username)
    if (person && props === current) {
      current.command({ id: person.id, label: person.display_name, username: person.username })
    } else if (box && props === current) {
      box.replaceChildren(h('div', { class: 'mention-empty', role: 'status' }, `No account is called “${username}”`))
    }
  }

  /** @param {number} i */
  function pick (i) {
    const person = items[i]
    if (person && props) props.command({ id: person.id, label: person.display_name, username: person.username })
  }

  return {
    onStart (/** @type {any} */ next) {
      props = next
      offerChosen = false
      items = next.items
      active = 0
      box = h('div', { class: 'mention-list', role: 'listbox', id: 'mention-list', 'aria-label': 'People to mention' })
      document.body.append(box)
      next.editor.view.dom.setAttribute('aria-controls', 'mention-list')
      next.editor.view.dom.setAttribute('aria-expanded', 'true')
      draw()
    },
    onUpdate (/** @type {any} */ next) {
      if (next.query !== props?.query) offerChosen = false
      props = next
      items = next.items
      active = Math.min(active, Math.max(items.length - 1, 0))
      draw()
    },
    onKeyDown (/** @type {{event: KeyboardEvent}} */ { event }) {
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        if (items.length) active = (active + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length
        else offerChosen = event.key === 'ArrowDown' && Boolean(box?.querySelector('[role="option"]'))
        draw()
        return true
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && items.length) {
        pick(active)
        return true
      }
      if ((event.key === 'Enter' || event.key === 'Tab') && offerChosen && box?.querySelector('[role="option"]')) {
        invite()
        return true
      }
      return false // Escape is the suggestion plugin's own: it closes the list
    },
    onExit () {
      if (props) {
        const dom = props.editor.view.dom
        dom.removeAttribute('aria-activedescendant')
        dom.removeAttribute('aria-controls')
        dom.setAttribute('aria-expanded', 'false')
      }
      box?.remove()
      box = null
      props = null
    },
  }
}

/**
 * The Mention extension for a document's text.
 * @param {string} docId @param {() => boolean} canShare whether this person owns the document
 */
export function textMentions (docId, canShare) {
  /** @type {Promise<import('../shared/api.js').DocPerson[]> | null} */
  let people = null
  const everyone = () => {
    people ??= listPeople(docId).catch(() => { people = null; return [] })
    return people
  }
  /** @param {string} username */
  const share = async (username) => {
    try {
      await inviteToDoc(docId, { username, role: 'commenter' })
    } catch {
      return null // no such account (or no longer the owner)
    }
    people = null
    return (await everyone()).find((p) => p.username === username.toLowerCase()) ?? null
  }
  return Mention.extend({
    addAttributes () {
      return {
        ...this.parent?.(),
        username: {
          default: null,
          parseHTML: (element) => element.getAttribute('data-username'),
          renderHTML: (attributes) => attributes.username ? { 'data-username': attributes.username } : {},
        },
      }
    },
  }).configure({
    HTMLAttributes: { class: 'mention' },
    renderText: ({ node }) => `@${node.attrs.label ?? node.attrs.username ?? ''}`,
    renderHTML: ({ node, options }) => ['span', options.HTMLAttributes, `@${node.attrs.label ?? node.attrs.username ?? ''}`],
    suggestion: {
      char: '@',
      items: async ({ query }) => matchPeople(await everyone(), query),
      render: () => suggestionList({ canShare, share }),
    },
  })
}
