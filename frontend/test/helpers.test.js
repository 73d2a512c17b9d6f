// node --test: small pure helpers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { normalizeHref } from '../src/editor/link.js'
import { textColorOn } from '../src/editor/carets.js'
import { PALETTE, initials } from '../src/shared/identity.js'
import { parseServerTime, relativeTime } from '../src/shared/time.js'
import { formatKeys } from '../src/shared/dom.js'

test('links: bare domains get https, e-mail gets mailto, unsafe schemes are refused', () => {
  assert.equal(normalizeHref('example.com/a'), 'https://example.com/a')
  assert.equal(normalizeHref(' https://x.org '), 'https://x.org')
  assert.equal(normalizeHref('ada@example.org'), 'mailto:ada@example.org')
  assert.equal(normalizeHref('#section'), '#section')
  assert.equal(normalizeHref('javascript:alert(1)'), null)
  assert.equal(normalizeHref('data:text/html,hi'), null)
  assert.equal(normalizeHref('   '), null)
})

test('caret labels: white on every palette colour, dark on light colours', () => {
  for (const color of PALETTE) assert.equal(textColorOn(color), '#ffffff', color)
  assert.equal(textColorOn('#fde047'), '#111111')
  assert.equal(textColorOn('not a colour'), '#ffffff')
})

test('palette colours meet WCAG AA (4.5:1) with white text', () => {
  const lum = (hex) => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((c) => (c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4))
    .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0)
  for (const color of PALETTE) {
    assert.match(color, /^#[0-9a-f]{6}$/)
    assert.ok(1.05 / (lum(color) + 0.05) >= 4.5, color)
  }
  assert.equal(new Set(PALETTE).size, PALETTE.length)
})

test('initials', () => {
  assert.equal(initials('Ada Lovelace'), 'AL')
  assert.equal(initials('  bea  '), 'B')
  assert.equal(initials('Jean de la Fontaine'), 'JF')
  assert.equal(initials(''), '?')
})

test('server times without a zone are UTC; relative wording', () => {
  assert.equal(parseServerTime('2026-01-02T03:04:05').toISOString(), '2026-01-02T03:04:05.000Z')
  assert.equal(parseServerTime('2026-01-02T03:04:05+00:00').toISOString(), '2026-01-02T03:04:05.000Z')
  const now = Date.parse('2026-01-02T12:00:00Z')
  assert.equal(relativeTime(new Date(now - 10_000), now), 'just now')
  assert.match(relativeTime(new Date(now - 5 * 60_000), now), /5 minutes ago/)
  assert.match(relativeTime(new Date(now - 3 * 86_400_000), now), /3 days ago/)
})

test('shortcut labels', () => {
  assert.equal(formatKeys('Mod-Shift-x'), 'Ctrl+Shift+X')
  assert.equal(formatKeys('Mod-Alt-1'), 'Ctrl+Alt+1')
})
