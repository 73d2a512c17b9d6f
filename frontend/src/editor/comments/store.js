// Comment thread data in the Y.Doc (contract: crdt/COMMENTS.md). Every change is one
// `ydoc.transact`; values only ever change by whole-value `map.set` (last writer wins per key).
// Reading turns the Yjs types into plain objects for the UI; missing keys read as null/false.
// Every person written (author, resolvedBy) is the viewer's own {id, name, username, color}:
// the server refuses comment data under anyone else's id. Who may do what: ownership.js.
import * as Y from 'yjs'

/** Longest body, in Unicode code points (the server refuses longer ones too). */
export const MAX_BODY = 10_000
/** From this length on the composer shows a counter. */
export const COUNTER_FROM = 9_000

/**
 * @typedef {{id: string | null, name: string, username: string | null, color: string}} Person
 * `id`: the account id, or "link:<share id>" for a share-link visitor; null without accounts
 * and in data written before comments had owners. `username`: null without an account.
 * @typedef {{id: string, author: Person | null, body: string, createdAt: number | null,
 *   editedAt: number | null, deleted: boolean}} Message
 * @typedef {{id: string, createdAt: number | null, author: Person | null, quote: string,
 *   resolved: boolean, resolvedAt: number | null, resolvedBy: Person | null,
 *   assignee: Person | null, messages: Message[]}} Thread
 */

/** Length as the server counts it (code points, not UTF-16 units). @param {string} text */
export function bodyLength (text) {
  return Array.from(text).length
}

/**
 * What is wrong with a body, in words for the person typing it, or null if it can be sent.
 * @param {string} text
 * @returns {string | null}
 */
export function bodyProblem (text) {
  if (!text.trim()) return 'Write something first.'
  const length = bodyLength(text)
  if (length > MAX_BODY) {
    const over = length - MAX_BODY
    return `Too long: a comment can have at most ${MAX_BODY.toLocaleString('en')} characters. ` +
      `Remove ${over.toLocaleString('en')} character${over === 1 ? '' : 's'} to send it.`
  }
  return null
}

/** "9,412 / 10,000" once the body is near the limit, else "". @param {string} text */
export function counterText (text) {
  const length = bodyLength(text)
  return length >= COUNTER_FROM ? `${length.toLocaleString('en')} / ${MAX_BODY.toLocaleString('en')}` : ''
}

/**
 * A UUID for a thread or message. crypto.randomUUID() exists only in secure contexts; a page
 * served over plain HTTP on a LAN address gets the same shape from getRandomValues.
 * @returns {string}
 */
export function newId () {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID()
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[6] = (bytes[6] & 0x0f) | 0x40 // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80 // variant 10
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** @param {Y.Doc} doc @returns {Y.Map<any>} */
export function commentsMap (doc) {
  return doc.getMap('comments')
}

/** @param {unknown} value */
const text = (value) => (typeof value === 'string' && value ? value : null)

/** @param {unknown} value @returns {Person | null} */
function person (value) {
  if (!value || typeof value !== 'object') return null
  const { id, name, username, color } = /** @type {any} */ (value)
  return { id: text(id), name: text(name) ?? '', username: text(username), color: text(color) ?? '' }
}

/** The person object as written into comment data (plain JSON). @param {Person} who */
function written (who) {
  return { id: who.id ?? null, name: who.name, username: who.username ?? null, color: who.color }
}

/** @param {unknown} value */
const num = (value) => (typeof value === 'number' && Number.isFinite(value) ? value : null)

/** @param {Y.Map<any>} map @returns {Message} */
function readMessage (map) {
  const body = map.get('body')
  return {
    id: String(map.get('id') || ''),
    author: person(map.get('author')),
    body: typeof body === 'string' ? body : '',
    createdAt: num(map.get('createdAt')),
    editedAt: num(map.get('editedAt')),
    deleted: map.get('deleted') === true,
  }
}

/** @param {string} id @param {Y.Map<any>} map @returns {Thread} */
export function readThread (id, map) {
  const raw = map.get('messages')
  const messages = raw instanceof Y.Array
    ? raw.toArray().filter((m) => m instanceof Y.Map).map(readMessage)
    : []
  const quote = map.get('quote')
  return {
    id,
    createdAt: num(map.get('createdAt')),
    author: person(map.get('author')),
    quote: typeof quote === 'string' ? quote : '',
    resolved: map.get('resolved') === true,
    resolvedAt: num(map.get('resolvedAt')),
    resolvedBy: person(map.get('resolvedBy')),
    assignee: person(map.get('assignee')),
    messages,
  }
}

/** Every thread, as plain objects. @param {Y.Doc} doc @returns {Map<string, Thread>} */
export function readThreads (doc) {
  /** @type {Map<string, Thread>} */
  const threads = new Map()
  commentsMap(doc).forEach((value, key) => {
    if (value instanceof Y.Map) threads.set(key, readThread(key, value))
  })
  return threads
}

/** @param {Person} author @param {string} body @param {number} now */
function newMessage (author, body, now) {
  return new Y.Map(Object.entries({
    id: newId(),
    author: written(author),
    body,
    createdAt: now,
    editedAt: null,
    deleted: false,
  }))
}

/**
 * Write a new thread's data (the caller then adds its mark in the editor, see comments/index.js).
 * @param {Y.Doc} doc
 * @param {{id?: string, author: Person, body: string, quote: string, now?: number}} thread
 * @returns {string} the thread id
 */
export function createThread (doc, { id = newId(), author, body, quote, now = Date.now() }) {
  const problem = bodyProblem(body)
  if (problem) throw new Error(problem)
  doc.transact(() => {
    commentsMap(doc).set(id, new Y.Map(Object.entries({
      id,
      createdAt: now,
      author: written(author),
      quote,
      resolved: false,
      resolvedAt: null,
      resolvedBy: null,
      messages: Y.Array.from([newMessage(author, body, now)]),
    })))
  })
  return id
}

/** @param {Y.Doc} doc @param {string} threadId @returns {Y.Map<any> | null} */
function threadMap (doc, threadId) {
  const map = commentsMap(doc).get(threadId)
  return map instanceof Y.Map ? map : null
}

/** @param {Y.Map<any>} thread @param {string} messageId @returns {Y.Map<any> | null} */
function messageMap (thread, messageId) {
  const messages = thread.get('messages')
  if (!(messages instanceof Y.Array)) return null
  return messages.toArray().find((m) => m instanceof Y.Map && m.get('id') === messageId) || null
}

/** @param {Y.Doc} doc @param {string} threadId @param {{author: Person, body: string, now?: number}} reply */
export function addReply (doc, threadId, { author, body, now = Date.now() }) {
  const problem = bodyProblem(body)
  if (problem) throw new Error(problem)
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    if (!thread) throw new Error('This thread was deleted.')
    const messages = thread.get('messages')
    // a thread's keys are never replaced (the server refuses it): no list, no replies
    if (!(messages instanceof Y.Array)) throw new Error('This thread cannot take replies.')
    messages.push([newMessage(author, body, now)])
  })
}

/** @param {Y.Doc} doc @param {string} threadId @param {string} messageId @param {string} body @param {number} [now] */
export function editMessage (doc, threadId, messageId, body, now = Date.now()) {
  const problem = bodyProblem(body)
  if (problem) throw new Error(problem)
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    const message = thread && messageMap(thread, messageId)
    if (!message || message.get('deleted') === true) throw new Error('This comment was deleted.')
    message.set('body', body)
    message.set('editedAt', now)
  })
}

/** Leave a tombstone (deleted, body ""): the thread keeps its shape. @param {Y.Doc} doc @param {string} threadId @param {string} messageId */
export function deleteMessage (doc, threadId, messageId) {
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    const message = thread && messageMap(thread, messageId)
    if (!message || (message.get('deleted') === true && message.get('body') === '')) return
    message.set('deleted', true)
    message.set('body', '')
  })
}

/** Remove a thread's data (its marks are removed by the caller, in the editor). @param {Y.Doc} doc @param {string} threadId */
export function deleteThreadData (doc, threadId) {
  doc.transact(() => commentsMap(doc).delete(threadId))
}

/** @param {Y.Doc} doc @param {string} threadId @param {Person} by @param {number} [now] */
export function resolveThread (doc, threadId, by, now = Date.now()) {
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    if (!thread || thread.get('resolved') === true) return // keep the first resolver and time
    thread.set('resolved', true)
    thread.set('resolvedAt', now)
    thread.set('resolvedBy', written(by))
  })
}

/** The grey an assignee is drawn in (crdt/COMMENTS.md: a person object needs a colour). */
export const ASSIGNEE_COLOR = '#6b7280'

/**
 * Assign a thread to someone who can read the document (null: to no one).
 * @param {Y.Doc} doc @param {string} threadId
 * @param {{id: string, name: string, username: string} | null} assignee
 */
export function assignThread (doc, threadId, assignee) {
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    if (!thread) return
    thread.set('assignee', assignee ? { id: assignee.id, name: assignee.name, username: assignee.username, color: ASSIGNEE_COLOR } : null)
  })
}

/** @param {Y.Doc} doc @param {string} threadId */
export function reopenThread (doc, threadId) {
  doc.transact(() => {
    const thread = threadMap(doc, threadId)
    if (!thread || thread.get('resolved') !== true) return
    thread.set('resolved', false)
    thread.set('resolvedAt', null)
    thread.set('resolvedBy', null)
  })
}

/** Messages not deleted. @param {Thread} thread */
export const liveMessages = (thread) => thread.messages.filter((m) => !m.deleted)
