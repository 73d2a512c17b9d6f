// node --test: comments as numbered footnotes when printing (editor/print-notes.js): numbered as
// the Markdown export numbers them, open threads only, a number after every part of a passage.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { QUOTE_MAX, footnoteRefs, footnotes, isPrinted, shortQuote } from '../src/editor/print-notes.js'

const person = (name) => ({ id: `u-${name}`, name, username: name.toLowerCase(), color: '#1d4ed8' })
const message = (name, body, extra = {}) => ({ id: `m-${body}`, author: person(name), body, createdAt: 1000, editedAt: null, deleted: false, ...extra })
const thread = (id, messages, extra = {}) => ({
  id, createdAt: 1000, author: messages[0]?.author ?? null, quote: `quote of ${id}`, resolved: false,
  resolvedAt: null, resolvedBy: null, assignee: null, messages, ...extra,
})

test('numbers follow where the passages end, a split passage keeps its number', () => {
  // b ends first though a starts first; c is split in two parts
  const ranges = new Map([
    ['a', [{ from: 1, to: 20 }]],
    ['b', [{ from: 5, to: 10 }]],
    ['c', [{ from: 30, to: 35 }, { from: 50, to: 55 }]],
  ])
  const { refs, numbers } = footnoteRefs(ranges, () => true)
  assert.deepEqual([...numbers], [['b', 1], ['a', 2], ['c', 3]])
  assert.deepEqual(refs, [
    { at: 10, id: 'b', number: 1 },
    { at: 20, id: 'a', number: 2 },
    { at: 35, id: 'c', number: 3 },
    { at: 55, id: 'c', number: 3 },
  ])
})

test('passages ending at the same place keep the order their threads were found in', () => {
  const ranges = new Map([['x', [{ from: 1, to: 9 }]], ['y', [{ from: 4, to: 9 }]]])
  assert.deepEqual([...footnoteRefs(ranges, () => true).numbers], [['x', 1], ['y', 2]])
})

test('resolved threads and threads without data get no number', () => {
  const threads = new Map([
    ['open', thread('open', [message('Ada', 'Why?')])],
    ['done', thread('done', [message('Bea', 'Fixed')], { resolved: true })],
  ])
  const ranges = new Map([
    ['done', [{ from: 1, to: 4 }]],
    ['gone', [{ from: 5, to: 6 }]],
    ['open', [{ from: 8, to: 12 }]],
  ])
  const { refs, numbers } = footnoteRefs(ranges, (id) => isPrinted(threads.get(id)))
  assert.deepEqual([...numbers], [['open', 1]])
  assert.deepEqual(refs, [{ at: 12, id: 'open', number: 1 }])
})

test('a note has the passage as it reads now, and every message not deleted, with its author', () => {
  const threads = new Map([
    ['a', thread('a', [message('Ada', 'Is this right?'), message('Bea', 'gone', { deleted: true }), message('Bea', 'Yes.\nChecked.')])],
    ['b', thread('b', [message('Cy', 'Source?')])],
  ])
  const numbers = new Map([['b', 1], ['a', 2]])
  const notes = footnotes(numbers, threads, (id) => (id === 'a' ? 'the  current\npassage' : ''))
  assert.deepEqual(notes, [
    { number: 1, id: 'b', quote: 'quote of b', messages: [{ author: 'Cy', body: 'Source?', createdAt: 1000 }] },
    {
      number: 2,
      id: 'a',
      quote: 'the current passage',
      messages: [
        { author: 'Ada', body: 'Is this right?', createdAt: 1000 },
        { author: 'Bea', body: 'Yes.\nChecked.', createdAt: 1000 },
      ],
    },
  ])
})

test('a long passage is shortened on a word boundary', () => {
  const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ')
  const quote = shortQuote(words)
  assert.ok(quote.length <= QUOTE_MAX + 1)
  assert.ok(quote.endsWith('…'))
  assert.ok(words.startsWith(quote.slice(0, -1)))
  assert.match(quote, /word\d+…$/)
  assert.equal(shortQuote('short one'), 'short one')
})
