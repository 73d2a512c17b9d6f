// node --test: comment thread data (the Y.Doc shapes of crdt/COMMENTS.md), who may change what
// (ownership, by id), names shared by two people, and margin layout.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import * as store from '../src/editor/comments/store.js'
import { stackCards } from '../src/editor/comments/layout.js'
import { mayAssign, mayDeleteMessage, mayDeleteThread, mayEdit, mayResolve } from '../src/editor/comments/ownership.js'
import { personLabel, sharedNames } from '../src/shared/identity.js'

const ada = { id: 'u-ada', name: 'Ada', username: 'ada', color: '#1d4ed8' }
const bea = { id: 'link:s-1', name: 'Bea', username: null, color: '#b91c1c' }

test('a new thread has every key of the contract, as Yjs types where it says so', () => {
  const doc = new Y.Doc()
  const id = store.createThread(doc, { author: ada, body: 'Why?', quote: 'the passage', now: 1000 })
  const map = doc.getMap('comments').get(id)
  assert.ok(map instanceof Y.Map)
  assert.deepEqual([...map.keys()].sort(), ['author', 'createdAt', 'id', 'messages', 'quote', 'resolved', 'resolvedAt', 'resolvedBy'])
  assert.ok(map.get('messages') instanceof Y.Array)
  const message = map.get('messages').get(0)
  assert.ok(message instanceof Y.Map)
  assert.deepEqual(message.toJSON(), { id: message.get('id'), author: ada, body: 'Why?', createdAt: 1000, editedAt: null, deleted: false })
  assert.match(id, /^[A-Za-z0-9_-]{1,64}$/)
  assert.deepEqual(store.readThread(id, map), {
    id, createdAt: 1000, author: ada, quote: 'the passage', resolved: false, resolvedAt: null, resolvedBy: null,
    assignee: null,
    messages: [{ id: message.get('id'), author: ada, body: 'Why?', createdAt: 1000, editedAt: null, deleted: false }],
  })
})

test('replies, edits, tombstones, resolve (first resolver kept) and reopen travel to another doc', () => {
  const a = new Y.Doc()
  const b = new Y.Doc()
  a.on('update', (u) => Y.applyUpdate(b, u))
  b.on('update', (u) => Y.applyUpdate(a, u))
  const id = store.createThread(a, { author: ada, body: 'First', quote: 'q', now: 1 })
  store.addReply(b, id, { author: bea, body: 'Second', now: 2 })
  let thread = store.readThreads(a).get(id)
  assert.deepEqual(thread.messages.map((m) => [m.author.name, m.body]), [['Ada', 'First'], ['Bea', 'Second']])
  store.editMessage(a, id, thread.messages[0].id, 'First, edited', 3)
  store.deleteMessage(b, id, thread.messages[1].id)
  thread = store.readThreads(b).get(id)
  assert.equal(thread.messages[0].body, 'First, edited')
  assert.equal(thread.messages[0].editedAt, 3)
  assert.deepEqual([thread.messages[1].deleted, thread.messages[1].body], [true, ''])
  assert.deepEqual(store.liveMessages(thread).map((m) => m.body), ['First, edited'])
  store.resolveThread(b, id, bea, 4)
  store.resolveThread(a, id, ada, 5)
  thread = store.readThreads(a).get(id)
  assert.deepEqual([thread.resolved, thread.resolvedAt, thread.resolvedBy], [true, 4, bea])
  store.reopenThread(a, id)
  thread = store.readThreads(b).get(id)
  assert.deepEqual([thread.resolved, thread.resolvedAt, thread.resolvedBy], [false, null, null])
  // assigned to Bea on one side, seen on the other; then to no one
  store.assignThread(a, id, { id: 'u-bea', name: 'Bea', username: 'bea' })
  assert.deepEqual(store.readThreads(b).get(id).assignee, { id: 'u-bea', name: 'Bea', username: 'bea', color: store.ASSIGNEE_COLOR })
  store.assignThread(b, id, null)
  assert.equal(store.readThreads(a).get(id).assignee, null)
  store.deleteThreadData(b, id)
  assert.equal(store.readThreads(a).size, 0)
})

test('readers tolerate missing keys and foreign shapes', () => {
  const doc = new Y.Doc()
  const comments = doc.getMap('comments')
  comments.set('bare', new Y.Map())
  comments.set('junk', 'not a map')
  const threads = store.readThreads(doc)
  assert.deepEqual([...threads.keys()], ['bare'])
  assert.deepEqual(threads.get('bare'), {
    id: 'bare', createdAt: null, author: null, quote: '', resolved: false, resolvedAt: null, resolvedBy: null, assignee: null, messages: [],
  })
  // a thread's keys are never set again (the server refuses it): no message list, no replies
  assert.throws(() => store.addReply(doc, 'bare', { author: ada, body: 'hello' }), /cannot take replies/)
  assert.equal(comments.get('bare').size, 0)
  comments.set('legacy', new Y.Map(Object.entries({ author: { name: 'Old', color: '#123456' } })))
  assert.deepEqual(store.readThreads(doc).get('legacy').author, { id: null, name: 'Old', username: null, color: '#123456' })
})

test('what each person may do is decided by ids, never by names', () => {
  const twin = { id: 'u-twin', name: 'Ada', username: 'ada2', color: '#1d4ed8' } // Ada's name, copied
  const legacy = { id: null, name: 'Ada', username: null, color: '#1d4ed8' } // before ids existed
  const as = (me, role, accounts = true) => ({ me, role, accounts })
  for (const [role, edit, del, resolve, delThread] of [
    ['commenter', false, false, false, false],
    ['editor', false, false, true, false],
    ['owner', false, true, true, true],
  ]) {
    const viewer = as(twin, role)
    assert.deepEqual([mayEdit(ada, viewer), mayDeleteMessage(ada, viewer), mayResolve(ada, viewer), mayDeleteThread(ada, viewer)],
      [edit, del, resolve, delThread], role)
  }
  const self = as(ada, 'commenter')
  assert.deepEqual([mayEdit(ada, self), mayDeleteMessage(ada, self), mayResolve(ada, self), mayDeleteThread(ada, self)], [true, true, true, true])
  assert.deepEqual([mayEdit(legacy, self), mayDeleteMessage(legacy, self), mayResolve(legacy, self)], [false, false, false])
  assert.equal(mayEdit(legacy, as(ada, 'owner')), false) // nobody edits what nobody owns
  assert.equal(mayEdit(null, as(ada, 'owner')), false)
  // a share-link visitor owns what they wrote under their link id
  assert.equal(mayEdit(bea, as(bea, 'commenter')), true)
  assert.equal(mayEdit({ ...bea, id: 'link:s-2' }, as(bea, 'commenter')), false)
  // without accounts everyone is the owner; one's own messages are those under one's name
  const local = as({ id: null, name: 'Ada', username: null, color: '#1d4ed8' }, 'owner', false)
  assert.deepEqual([mayEdit(legacy, local), mayEdit({ ...legacy, name: 'Cy' }, local), mayDeleteThread({ ...legacy, name: 'Cy' }, local)], [true, false, true])
  // the assignee of a thread may mark it done (resolve) but not assign it; its author may assign
  assert.equal(mayResolve(ada, as(bea, 'commenter')), false)
  assert.equal(mayResolve(ada, as(bea, 'commenter'), bea), true)
  assert.equal(mayResolve(ada, as(bea, 'commenter'), twin), false) // by id, not by name
  assert.deepEqual([mayAssign(ada, as(bea, 'commenter')), mayAssign(bea, as(bea, 'commenter')), mayAssign(ada, as(bea, 'editor'))], [false, true, true])
  assert.equal(mayAssign(ada, local), false) // without accounts nobody can be named
})

test('usernames are shown only where two people share a display name', () => {
  const twin = { id: 'u-twin', name: 'Ada', username: 'ada2' }
  const guest = { id: 'link:s-9', name: 'Ada', username: null }
  assert.deepEqual([...sharedNames([ada, ada, bea, null])], [])
  const shared = sharedNames([ada, twin, bea, { id: null, name: 'Bea', username: null }])
  assert.deepEqual([...shared], ['Ada']) // data without ids tells nobody apart
  assert.deepEqual([personLabel(ada, shared), personLabel(twin, shared), personLabel(bea, shared)], ['Ada @ada', 'Ada @ada2', 'Bea'])
  assert.equal(personLabel(guest, sharedNames([ada, guest])), 'Ada (guest)')
  // presence: no ids, told apart by a key of the caller's
  const here = [{ name: 'Ada', username: 'ada', key: '@ada' }, { name: 'Ada', username: 'ada2', key: '@ada2' }]
  assert.deepEqual([...sharedNames(here, (p) => p.key)], ['Ada'])
})

test('bodies: empty and over-long ones are refused with a sentence; the count is in code points', () => {
  assert.equal(store.bodyProblem('   \n'), 'Write something first.')
  assert.equal(store.bodyProblem('x'.repeat(10_000)), null)
  assert.match(store.bodyProblem('x'.repeat(10_001)), /at most 10,000 characters\. Remove 1 character to send it\./)
  assert.equal(store.bodyProblem('😀'.repeat(10_000)), null) // 20,000 UTF-16 units, 10,000 code points
  assert.equal(store.counterText('x'.repeat(8_999)), '')
  assert.equal(store.counterText('x'.repeat(9_500)), '9,500 / 10,000')
  const doc = new Y.Doc()
  assert.throws(() => store.createThread(doc, { author: ada, body: 'x'.repeat(10_001), quote: 'q' }), /at most/)
  assert.equal(doc.getMap('comments').size, 0)
})

test('margin layout: cards keep their order without overlapping; the active one is aligned', () => {
  const items = [{ desired: 0, height: 50 }, { desired: 20, height: 50 }, { desired: 300, height: 40 }]
  assert.deepEqual(stackCards(items, { gap: 10 }), [0, 60, 300])
  // aligning the second card pushes the first one up, as far as the top allows
  assert.deepEqual(stackCards([{ desired: 100, height: 50 }, { desired: 120, height: 50 }], { active: 1, gap: 10 }), [60, 120])
  assert.deepEqual(stackCards([{ desired: 0, height: 50 }, { desired: 20, height: 50 }], { active: 1, gap: 10 }), [0, 60])
  assert.deepEqual(stackCards([], { active: 0 }), [])
})

test('ids are UUIDs, with or without crypto.randomUUID', () => {
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
  assert.match(store.newId(), uuid)
  const original = crypto.randomUUID
  try {
    Object.defineProperty(crypto, 'randomUUID', { value: undefined, configurable: true })
    const ids = new Set(Array.from({ length: 50 }, () => store.newId()))
    assert.equal(ids.size, 50)
    for (const id of ids) assert.match(id, uuid)
  } finally {
    Object.defineProperty(crypto, 'randomUUID', { value: original, configurable: true })
  }
})
