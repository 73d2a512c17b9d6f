// node --test: the "Saved" decision (SaveTracker) on real Y.Docs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { SaveTracker } from '../src/editor/save-tracker.js'

const type = (doc, text) => doc.getText('t').insert(doc.getText('t').length, text)
const sv = (doc) => Y.decodeStateVector(Y.encodeStateVector(doc))

test('a fresh page with nothing typed is saved', () => {
  const doc = new Y.Doc()
  assert.equal(new SaveTracker(doc).isSaved(), true)
})

test('own typing is unsaved until the server confirms a state vector that covers it', () => {
  const doc = new Y.Doc()
  const tracker = new SaveTracker(doc)
  type(doc, 'hello')
  assert.equal(tracker.isSaved(), false)
  const halfway = new Map([[doc.clientID, 3]])
  tracker.confirmPersisted(halfway)
  assert.equal(tracker.isSaved(), false)
  tracker.confirmPersisted(sv(doc))
  assert.equal(tracker.isSaved(), true)
  type(doc, '!')
  assert.equal(tracker.isSaved(), false)
})

test('confirmations only move forward (a late, older vector does not undo "saved")', () => {
  const doc = new Y.Doc()
  const tracker = new SaveTracker(doc)
  type(doc, 'abc')
  tracker.confirmPersisted(sv(doc))
  tracker.confirmPersisted(new Map([[doc.clientID, 1]]))
  assert.equal(tracker.isSaved(), true)
})

test('changes from other people never make us unsaved', () => {
  const doc = new Y.Doc()
  const other = new Y.Doc()
  const tracker = new SaveTracker(doc)
  type(other, 'theirs')
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(other))
  assert.equal(tracker.isSaved(), true)
})

test('edits loaded from IndexedDB stay unsaved until the server has them', () => {
  const earlier = new Y.Doc() // the visit that typed offline
  type(earlier, 'offline words')
  const doc = new Y.Doc()
  Y.applyUpdate(doc, Y.encodeStateAsUpdate(earlier)) // what y-indexeddb does on load
  const tracker = new SaveTracker(doc)
  tracker.watchLocalCopy()
  assert.equal(tracker.isSaved(), false)
  tracker.confirmPersisted(new Map())
  assert.equal(tracker.isSaved(), false)
  tracker.confirmPersisted(sv(earlier))
  assert.equal(tracker.isSaved(), true)
})
