// @mentions in comment text: found as the server finds them (crdt/mentions.py), suggested by
// name or username.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { matchPeople, mentionPieces } from '../src/shared/mentions.js'

const people = [
  { id: '1', username: 'ada', display_name: 'Ada Lovelace', role: 'owner' },
  { id: '2', username: 'bea.k', display_name: 'Bea Kim', role: 'commenter' },
  { id: '3', username: 'cy', display_name: 'Cyrus', role: 'editor' },
]

test('a few letters match a username, a name or any word of the name', () => {
  assert.deepEqual(matchPeople(people, '').map((p) => p.id), ['1', '2', '3'])
  assert.deepEqual(matchPeople(people, 'B').map((p) => p.id), ['2'])
  assert.deepEqual(matchPeople(people, 'kim').map((p) => p.id), ['2'])
  assert.deepEqual(matchPeople(people, 'love').map((p) => p.id), ['1'])
  assert.deepEqual(matchPeople(people, 'zed'), [])
})

test('mentions are cut out of the text as the server reads them', () => {
  const pieces = (text) => mentionPieces(text).map((p) => (p.mention ? `[${p.text}]` : p.text)).join('')
  assert.equal(pieces('@ada, can you and @bea.k check?'), '[@ada], can you and [@bea.k] check?')
  assert.equal(pieces('Ask @cy.'), 'Ask [@cy].') // a sentence's full stop is not the name's
  assert.equal(pieces('mail ada@example.com or @@x'), 'mail ada@example.com or @@x')
  assert.equal(pieces('@a'), '@a') // two characters at least
  assert.equal(pieces(`@${'a'.repeat(50)}`), `@${'a'.repeat(50)}`) // longer than a username
  assert.equal(pieces('plain'), 'plain')
})
