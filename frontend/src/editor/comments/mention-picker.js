// @mention suggestions in a comment's text box: typing "@" and a few letters lists the people who
// can read the document; ArrowDown/ArrowUp choose, Enter or Tab put "@username " in place of what
// was typed, Escape closes the list (and only the list). Comments are plain text: a mention is
// "@username", which the server reads to notify that person (crdt/mentions.py).
import { h } from '../../shared/dom.js'
import { matchPeople } from '../../shared/mentions.js'

/** @type {(() => Promise<import('../../shared/api.js').DocPerson[]>) | null} */
let everyone = null
let lists = 0

/** The people who can read the document (none if the page did not say how to find them). */
export function mentionPeople () {
  return everyone ? everyone() : Promise.resolve([])
}

/** Where suggestions come from (the page's document), set once by the editor page. */
export function setMentionPeople (/** @type {() => Promise<import('../../shared/api.js').DocPerson[]>} */ people) {
  everyone = people
}

/** The "@letters" just before the caret, or null. @param {HTMLTextAreaElement} textarea */
function typedMention (textarea) {
  if (textarea.selectionStart !== textarea.selectionEnd) return null
  const before = textarea.value.slice(0, textarea.selectionStart)
  const match = /(?:^|[^\w@.])@([A-Za-z0-9_.-]{0,40})$/.exec(before)
  return match ? { query: match[1], start: textarea.selectionStart - match[1].length - 1 } : null
}

/**
 * Suggest people while `textarea` is being typed in. Returns whether a key was the list's.
 * @param {HTMLTextAreaElement} textarea
 */
export function attachMentionPicker (textarea) {
  const id = `mention-picks-${++lists}`
  const box = h('div', { id, class: 'mention-list mention-list-inline', role: 'listbox', 'aria-label': 'People to mention', hidden: true })
  // a text box with a list of suggestions (ARIA: aria-autocomplete on a textbox; the options are
  // announced through aria-activedescendant)
  textarea.setAttribute('aria-autocomplete', 'list')
  textarea.setAttribute('aria-controls', id)
  /** @type {import('../../shared/api.js').DocPerson[]} */
  let items = []
  let active = 0
  /** @type {{query: string, start: number} | null} */
  let typed = null
  let asked = 0

  function close () {
    box.hidden = true
    typed = null
    textarea.removeAttribute('aria-activedescendant')
  }

  function draw () {
    if (!typed) {
      close()
      return
    }
    if (items.length === 0) { // say so: the person named would not be told
      textarea.removeAttribute('aria-activedescendant')
      box.replaceChildren(h('div', { class: 'mention-empty', role: 'status' }, typed.query.length >= 2
        ? `Nobody called “${typed.query}” can see this document: they would not be told`
        : 'Nobody by that name can see this document'))
      box.hidden = false
      return
    }
    box.replaceChildren(...items.map((person, i) => {
      const option = h('div', { id: `${id}-${i}`, class: 'mention-option', role: 'option', 'aria-selected': String(i === active) },
        h('span', { class: 'mention-name' }, person.display_name),
        h('span', { class: 'mention-username' }, `@${person.username}`))
      option.addEventListener('mousedown', (event) => { event.preventDefault(); pick(i) })
      return option
    }))
    box.hidden = false
    textarea.setAttribute('aria-activedescendant', `${id}-${active}`)
  }

  /** @param {number} i */
  function pick (i) {
    const person = items[i]
    if (!person || !typed) return
    const end = textarea.selectionStart
    const text = `@${person.username} `
    textarea.setRangeText(text, typed.start, end, 'end')
    close()
    textarea.dispatchEvent(new Event('input', { bubbles: true }))
    textarea.focus()
  }

  async function update () {
    typed = typedMention(textarea)
    if (!typed || !everyone) {
      close()
      return
    }
    const mine = ++asked
    const people = await everyone()
    if (mine !== asked) return
    items = matchPeople(people, typed.query)
    active = Math.min(active, Math.max(items.length - 1, 0))
    draw()
  }

  textarea.addEventListener('input', () => { update() })
  textarea.addEventListener('blur', () => setTimeout(close, 100))
  textarea.addEventListener('keydown', (event) => {
    if (box.hidden) return
    if (items.length === 0) { // only a message is showing: Escape closes it, other keys type
      if (event.key === 'Escape') {
        event.preventDefault()
        event.stopImmediatePropagation()
        close()
      }
      return
    }
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault()
      active = (active + (event.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length
      draw()
    } else if ((event.key === 'Enter' && !event.ctrlKey && !event.metaKey) || event.key === 'Tab') {
      event.preventDefault()
      event.stopImmediatePropagation()
      pick(active)
    } else if (event.key === 'Escape') {
      event.preventDefault()
      event.stopImmediatePropagation() // closes the list, not the comment
      close()
    }
  })
  return box
}
