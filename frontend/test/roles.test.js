// node --test: roles (what each may do, what the page says, the remembered role) and the Share
// panel's wording of roles and expiry.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cachedRole, canCommentAs, canEditAs, isRole, rememberRole, roleBanner } from '../src/editor/roles.js'
import { expiryText, roleLabel } from '../src/editor/share.js'

test('roles: editors and owners write; commenters and up comment; unknown roles do nothing', () => {
  assert.deepEqual(['viewer', 'commenter', 'editor', 'owner'].map(canEditAs), [false, false, true, true])
  assert.deepEqual(['viewer', 'commenter', 'editor', 'owner'].map(canCommentAs), [false, true, true, true])
  for (const odd of [null, undefined, '', 'admin', 'toString', '__proto__']) {
    assert.equal(isRole(odd), false, String(odd))
    assert.equal(canEditAs(odd), false)
    assert.equal(canCommentAs(odd), false)
  }
})

test('roles: readers and commenters are told quietly; writers see nothing', () => {
  assert.equal(roleBanner('viewer'), 'You can read this document; you cannot edit it.')
  assert.match(roleBanner('commenter'), /comment/)
  assert.equal(roleBanner('editor'), '')
  assert.equal(roleBanner('owner'), '')
})

test('roles: the last role seen is remembered per document, junk in storage is ignored', () => {
  const store = new Map()
  globalThis.localStorage = {
    getItem: (k) => (store.has(k) ? store.get(k) : null),
    setItem: (k, v) => store.set(k, String(v)),
    removeItem: (k) => store.delete(k),
  }
  try {
    assert.equal(cachedRole('a'), null)
    rememberRole('a', 'viewer')
    rememberRole('b', 'owner')
    assert.equal(cachedRole('a'), 'viewer')
    assert.equal(cachedRole('b'), 'owner')
    rememberRole('a', 'editor')
    assert.equal(cachedRole('a'), 'editor')
    store.set('quire.roles', '{"c": "superuser"}')
    assert.equal(cachedRole('c'), null)
    store.set('quire.roles', 'not json')
    assert.equal(cachedRole('a'), null)
    for (let i = 0; i < 250; i++) rememberRole(`doc${i}`, 'viewer')
    assert.ok(Object.keys(JSON.parse(store.get('quire.roles'))).length <= 200)
    assert.equal(cachedRole('doc249'), 'viewer')
  } finally {
    delete globalThis.localStorage
  }
})

test('share panel: role names and expiry in plain words', () => {
  assert.equal(roleLabel('viewer'), 'Can view')
  assert.equal(roleLabel('commenter'), 'Can comment')
  assert.equal(roleLabel('editor'), 'Can edit')
  const now = Date.parse('2026-11-20T12:00:00Z')
  assert.equal(expiryText(null, now), 'No end date')
  assert.equal(expiryText('2026-11-19T12:00:00', now), 'Expired')
  assert.match(expiryText('2026-11-27T12:00:00', now), /^Until .*2026/)
})
