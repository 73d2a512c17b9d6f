// One thread as a card: its messages (author, relative time, body as plain text), a reply box,
// edit/delete and resolve/reopen where the ownership rules allow them (ownership.js: by id,
// never by name). Where two people in the document share a display name, the card shows their
// usernames. Updated in place when the data changes, so a half-written reply or edit survives
// other people's changes to the same thread.
//
// Bodies and names are untrusted: they only ever reach the page through textContent (h()'s
// string children are text nodes). Never innerHTML.
import { h, icon } from '../../shared/dom.js'
import { personLabel } from '../../shared/identity.js'
import { fullTime, relativeTime } from '../../shared/time.js'
import { mentionPieces } from '../../shared/mentions.js'
import { bodyField } from './body-field.js'

/**
 * @typedef {import('./store.js').Thread} Thread
 * @typedef {import('./store.js').Message} Message
 * @typedef {import('./store.js').Person} Person
 * @typedef {{
 *   reply: (threadId: string, body: string) => void,
 *   edit: (threadId: string, messageId: string, body: string) => void,
 *   remove: (threadId: string, messageId: string) => void,
 *   resolve: (threadId: string) => void,
 *   reopen: (threadId: string) => void,
 *   activate: (threadId: string) => void,
 *   assign: (threadId: string, person: {id: string, name: string, username: string} | null) => void,
 *   people: () => Promise<import('../../shared/api.js').DocPerson[]>,
 *   isMe: (person: Person | null) => boolean,
 *   mayEdit: (author: Person | null) => boolean,
 *   mayDelete: (author: Person | null) => boolean,
 *   mayResolve: (thread: Thread) => boolean,
 *   mayAssign: (thread: Thread) => boolean,
 * }} ThreadActions
 * @typedef {{active: boolean, detached: boolean, showQuote: boolean, editable: boolean,
 *   shared: Set<string>}} CardView
 * `shared`: display names two people in the document share (their usernames are shown).
 */

const HEX = /^#[0-9a-fA-F]{6}$/

/** Set an element's text only when it differs (no needless DOM writes). @param {HTMLElement} el @param {string} text */
function setText (el, text) {
  if (el.textContent !== text) el.textContent = text
}

/** @type {WeakMap<HTMLElement, string>} what each message element shows */
const shownBodies = new WeakMap()

/**
 * A message's text, with its @mentions highlighted (built from text nodes: never as HTML).
 * @param {HTMLElement} el @param {string} text @param {boolean} mentions
 */
function setBody (el, text, mentions) {
  if (shownBodies.get(el) === text) return
  shownBodies.set(el, text)
  el.replaceChildren(...(mentions ? mentionPieces(text) : [{ text, mention: false }]).map((piece) =>
    piece.mention ? h('span', { class: 'mention' }, piece.text) : document.createTextNode(piece.text)))
}

/** @param {number | null} ms */
function timeElement (ms) {
  const el = h('time', { class: 'message-time' })
  setTime(el, ms)
  return el
}

/** @param {HTMLElement} el @param {number | null} ms */
function setTime (el, ms) {
  if (ms === null) {
    setText(el, '')
    el.removeAttribute('datetime')
    return
  }
  const date = new Date(ms)
  if (el.dataset.ms !== String(ms)) {
    el.dataset.ms = String(ms)
    el.setAttribute('datetime', date.toISOString())
    el.title = fullTime(date)
  }
  setText(el, relativeTime(date))
}

/** What follows a shared display name: "@alexk", "(guest)" or "". @param {Person} person @param {Set<string>} shared */
function nameSuffix (person, shared) {
  return personLabel(person, shared).slice(person.name.length).trim()
}

/** A short label for screen readers: who started it and how it begins. @param {Thread} thread @param {Set<string>} shared */
function cardLabel (thread, shared) {
  const first = thread.messages.find((m) => !m.deleted)
  const author = thread.author?.name ? thread.author : first?.author
  const who = author?.name ? personLabel(author, shared) : 'someone'
  const words = (first?.body || thread.quote).replace(/\s+/g, ' ').trim()
  const start = words.length > 60 ? `${words.slice(0, 60)}…` : words
  return `Comment thread by ${who}${start ? `: ${start}` : ''}`
}

class MessageItem {
  /** @param {ThreadCard} card @param {Message} message */
  constructor (card, message) {
    this.card = card
    this.id = message.id
    this.dot = h('span', { class: 'message-dot', 'aria-hidden': 'true' })
    this.author = h('span', { class: 'message-author' })
    this.username = h('span', { class: 'message-username' })
    this.time = timeElement(message.createdAt)
    this.edited = h('span', { class: 'message-edited' }, '(edited)')
    this.body = h('p', { class: 'message-body' })
    this.editButton = h('button', { type: 'button', class: 'link-button', 'data-action': 'edit' }, 'Edit')
    this.deleteButton = h('button', { type: 'button', class: 'link-button', 'data-action': 'delete' }, 'Delete')
    this.tools = h('div', { class: 'message-tools' }, this.editButton, this.deleteButton)
    this.slot = h('div', { class: 'message-slot' }) // edit form or delete confirmation
    this.el = h('li', { class: 'message', 'data-message-id': message.id },
      h('div', { class: 'message-head' }, this.dot, this.author, this.username, this.time, this.edited),
      this.body, this.tools, this.slot)
    /** @type {ReturnType<typeof bodyField> | null} */
    this.editor = null
    this.confirming = false
    this.editButton.addEventListener('click', () => this.startEdit())
    this.deleteButton.addEventListener('click', () => this.askDelete())
    /** @type {Message} */
    this.message = message
    this.update(message)
  }

  /** @param {Message} message */
  update (message) {
    this.message = message
    const name = message.author?.name || 'Someone'
    setText(this.author, name)
    const suffix = message.author ? nameSuffix(message.author, this.card.view.shared) : ''
    setText(this.username, suffix)
    this.username.hidden = !suffix
    const color = message.author?.color
    this.dot.style.backgroundColor = color && HEX.test(color) ? color : '#8a929c'
    setTime(this.time, message.createdAt)
    this.edited.hidden = message.editedAt === null || message.deleted
    if (message.editedAt !== null) this.edited.title = `Edited ${fullTime(new Date(message.editedAt))}`
    this.el.classList.toggle('is-deleted', message.deleted)
    setBody(this.body, message.deleted ? 'Comment deleted' : message.body, !message.deleted)
    const live = !message.deleted && this.card.view.editable
    const mayEdit = live && this.card.actions.mayEdit(message.author)
    const mayDelete = live && this.card.actions.mayDelete(message.author)
    this.editButton.hidden = !mayEdit
    this.deleteButton.hidden = !mayDelete
    this.tools.hidden = !(mayEdit || mayDelete) || this.editor !== null || this.confirming
    if ((this.editor && !mayEdit) || (this.confirming && !mayDelete)) this.closeSlot()
  }

  startEdit () {
    this.confirming = false
    this.editor = bodyField({
      label: 'Edit your comment',
      submitLabel: 'Save',
      value: this.message.body,
      onSubmit: (body) => {
        this.card.actions.edit(this.card.thread.id, this.id, body)
        this.closeSlot(true)
      },
      onCancel: () => this.closeSlot(true),
    })
    this.slot.replaceChildren(this.editor.form)
    this.body.hidden = true
    this.tools.hidden = true
    this.editor.focus()
  }

  askDelete () {
    this.confirming = true
    const yes = h('button', { type: 'button', class: 'btn btn-danger btn-small' }, 'Delete')
    const no = h('button', { type: 'button', class: 'btn btn-quiet btn-small' }, 'Cancel')
    yes.addEventListener('click', () => {
      this.closeSlot()
      this.card.actions.remove(this.card.thread.id, this.id)
    })
    no.addEventListener('click', () => this.closeSlot(true))
    const row = h('div', { class: 'confirm-row', role: 'group', 'aria-label': 'Delete this comment?' },
      h('span', {}, 'Delete this comment?'), yes, no)
    row.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.stopPropagation()
        this.closeSlot(true)
      }
    })
    this.slot.replaceChildren(row)
    this.tools.hidden = true
    no.focus()
  }

  /** @param {boolean} [refocus] */
  closeSlot (refocus = false) {
    this.editor = null
    this.confirming = false
    this.slot.replaceChildren()
    this.body.hidden = false
    this.update(this.message)
    if (refocus) (this.tools.hidden ? this.card.el : this.editButton.hidden ? this.deleteButton : this.editButton).focus()
  }

  refreshTime () {
    setTime(this.time, this.message.createdAt)
  }
}

export class ThreadCard {
  /** @param {Thread} thread @param {ThreadActions} actions */
  constructor (thread, actions) {
    this.actions = actions
    this.thread = thread
    /** @type {CardView} */
    this.view = { active: false, detached: false, showQuote: false, editable: true, shared: new Set() }
    /** @type {Map<string, MessageItem>} */
    this.items = new Map()

    this.quote = h('blockquote', { class: 'thread-quote' })
    this.note = h('p', { class: 'thread-note' }, 'The text this was about has been deleted.')
    this.list = h('ol', { class: 'messages' })
    this.more = h('p', { class: 'thread-more' }) // "2 more replies" while the card is not active
    this.resolvedLine = h('p', { class: 'thread-resolved' })
    this.resolveButton = h('button', {
      type: 'button', class: 'btn-icon btn-small thread-resolve', 'aria-label': 'Resolve thread', 'data-tip': 'Resolve',
    }, icon('check'))
    this.reopenButton = h('button', { type: 'button', class: 'btn btn-small thread-reopen' }, icon('rotate-ccw'), 'Reopen')
    this.assignButton = h('button', {
      type: 'button', class: 'btn-icon btn-small thread-assign', 'aria-label': 'Assign to someone', 'data-tip': 'Assign',
    }, icon('user-plus'))
    this.assignedLine = h('p', { class: 'thread-assigned' })
    this.doneButton = h('button', { type: 'button', class: 'btn btn-small thread-done' }, icon('check'), 'Mark done')
    /** @type {HTMLSelectElement | null} */
    this.picker = null
    this.reply = bodyField({
      label: 'Reply',
      placeholder: 'Reply…',
      submitLabel: 'Reply',
      onSubmit: (body) => {
        this.actions.reply(this.thread.id, body)
        this.reply.reset()
      },
      onCancel: () => {
        this.reply.reset()
        this.el.focus()
      },
    })
    this.reply.form.classList.add('thread-reply')
    this.el = h('article', { class: 'thread', tabindex: '0', 'data-thread-id': thread.id },
      h('div', { class: 'thread-tools' }, this.assignButton, this.resolveButton, this.reopenButton),
      this.quote, this.note, h('div', { class: 'thread-assignment' }, this.assignedLine, this.doneButton),
      this.list, this.more, this.resolvedLine, this.reply.form)

    this.resolveButton.addEventListener('click', () => this.actions.resolve(this.thread.id))
    this.reopenButton.addEventListener('click', () => this.actions.reopen(this.thread.id))
    this.doneButton.addEventListener('click', () => this.actions.resolve(this.thread.id))
    this.assignButton.addEventListener('click', () => this.openPicker())
    this.el.addEventListener('click', (event) => {
      const target = /** @type {HTMLElement} */ (event.target)
      if (target.closest('button, a, textarea, input')) return
      this.actions.activate(this.thread.id)
    })
    this.el.addEventListener('focusin', () => {
      if (!this.view.active) this.actions.activate(this.thread.id)
    })
    this.update(thread, this.view)
  }

  /** @param {Thread} thread @param {CardView} view */
  update (thread, view) {
    this.thread = thread
    this.view = view
    const { el } = this
    el.classList.toggle('is-active', view.active)
    el.classList.toggle('is-resolved', thread.resolved)
    el.classList.toggle('is-detached', view.detached)
    el.setAttribute('aria-label', cardLabel(thread, view.shared))
    el.setAttribute('aria-current', view.active ? 'true' : 'false')

    setText(this.quote, thread.quote)
    this.quote.hidden = !(view.showQuote || view.detached) || !thread.quote
    this.note.hidden = !view.detached

    const seen = new Set()
    let previous = null
    for (const message of thread.messages) {
      seen.add(message.id)
      let item = this.items.get(message.id)
      if (item) item.update(message)
      else {
        item = new MessageItem(this, message)
        this.items.set(message.id, item)
      }
      const expected = previous ? previous.nextSibling : this.list.firstChild
      if (expected !== item.el) this.list.insertBefore(item.el, expected)
      previous = item.el
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.el.remove()
        this.items.delete(id)
      }
    }

    const hiddenReplies = view.active ? 0 : Math.max(0, thread.messages.length - 2)
    setText(this.more, `${hiddenReplies} more repl${hiddenReplies === 1 ? 'y' : 'ies'}`)
    this.more.hidden = hiddenReplies === 0

    if (thread.resolved) {
      const by = thread.resolvedBy?.name ? personLabel(thread.resolvedBy, view.shared) : 'someone'
      const when = thread.resolvedAt !== null ? ` · ${relativeTime(new Date(thread.resolvedAt))}` : ''
      setText(this.resolvedLine, `Resolved by ${by}${when}`)
    }
    this.resolvedLine.hidden = !thread.resolved
    const mayResolve = view.editable && this.actions.mayResolve(thread)
    this.resolveButton.hidden = thread.resolved || !mayResolve
    this.reopenButton.hidden = !thread.resolved || !mayResolve
    const assignee = thread.assignee
    if (assignee) setText(this.assignedLine, `Assigned to ${this.actions.isMe(assignee) ? 'you' : personLabel(assignee, view.shared)}`)
    this.assignedLine.hidden = !assignee
    this.doneButton.hidden = thread.resolved || !view.editable || !this.actions.isMe(assignee)
    this.assignButton.hidden = thread.resolved || !view.editable || !this.actions.mayAssign(thread) || this.picker !== null
    const drafting = this.reply.value !== '' || this.reply.form.contains(document.activeElement)
    this.reply.form.hidden = thread.resolved || !view.editable || !(view.active || drafting)
  }

  /** A list of the people who can read the document, in place of the Assign button. */
  async openPicker () {
    if (this.picker) {
      this.picker.focus()
      return
    }
    const people = await this.actions.people()
    const current = this.thread.assignee?.id ?? ''
    const picker = /** @type {HTMLSelectElement} */ (h('select', { class: 'thread-picker', 'aria-label': 'Assign to' },
      h('option', { value: '' }, 'No one'),
      ...people.map((p) => h('option', { value: p.id }, `${p.display_name} (@${p.username})`))))
    picker.value = current
    const done = (/** @type {boolean} */ apply) => {
      if (this.picker !== picker) return
      this.picker = null
      picker.remove()
      this.assignButton.hidden = !this.actions.mayAssign(this.thread)
      if (apply && picker.value !== current) {
        const person = people.find((p) => p.id === picker.value)
        this.actions.assign(this.thread.id, person ? { id: person.id, name: person.display_name, username: person.username } : null)
      }
      this.assignButton.focus()
    }
    picker.addEventListener('change', () => done(true))
    picker.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') {
        event.preventDefault()
        event.stopPropagation()
        done(false)
      } else if (event.key === 'Enter') {
        event.preventDefault()
        done(true)
      }
    })
    picker.addEventListener('blur', () => done(false))
    this.picker = picker
    this.assignButton.hidden = true
    this.assignButton.after(picker)
    picker.focus()
  }

  refreshTimes () {
    for (const item of this.items.values()) item.refreshTime()
    if (this.thread.resolved) this.update(this.thread, this.view)
  }

  focusReply () {
    if (!this.reply.form.hidden) this.reply.focus()
  }
}
