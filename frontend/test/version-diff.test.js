// node --test: laying the server's word diff over a version's ProseMirror document.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Schema } from '@tiptap/pm/model'
import { diffMarks, diffStats, textMap } from '../src/editor/version-diff.js'

const schema = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: { group: 'block', content: 'inline*' },
    bulletList: { group: 'block', content: 'listItem+' },
    listItem: { content: 'paragraph+' },
    text: { group: 'inline' },
    hardBreak: { group: 'inline', inline: true },
  },
})
const p = (...content) => schema.node('paragraph', null, content)
const t = (text) => schema.text(text)

test('textMap reads the document as the server does: blocks on lines, hard breaks as newlines', () => {
  const doc = schema.node('doc', null, [
    p(t('Hello '), schema.node('hardBreak'), t('world')),
    schema.node('bulletList', null, [schema.node('listItem', null, [p(t('item'))])]),
    p(),
  ])
  const map = textMap(doc)
  assert.equal(map.text, 'Hello \nworld\nitem\n')
  assert.equal(doc.textBetween(map.at[0], map.at[5] + 1), 'Hello ')
  assert.equal(map.sep[12], true)
  assert.equal(doc.textBetween(map.at[13], map.at[16] + 1), 'item')
})

test('diff segments become highlights, struck text at its place, and new block breaks', () => {
  const doc = schema.node('doc', null, [p(t('We ship on Monday.')), p(t('Budget attached.'))])
  const map = textMap(doc)
  const marks = diffMarks(map, [
    ['=', 'We ship on '], ['-', 'Friday'], ['+', 'Monday'], ['=', '.'], ['+', '\nBudget attached.'],
  ])
  assert.equal(marks.length, 4)
  const [del, ins, brk, ins2] = marks
  assert.equal(del.kind, 'del')
  assert.equal(del.text, 'Friday')
  assert.equal(doc.textBetween(1, del.pos), 'We ship on ')
  assert.equal(ins.kind, 'ins')
  assert.equal(doc.textBetween(ins.from, ins.to), 'Monday')
  assert.equal(brk.kind, 'break')
  assert.equal(doc.resolve(brk.pos).parentOffset, 'We ship on Monday.'.length) // end of the first block
  assert.equal(doc.textBetween(ins2.from, ins2.to), 'Budget attached.')
})

test('a diff that does not describe the text is refused (the view then shows plain text)', () => {
  const map = textMap(schema.node('doc', null, [p(t('abc'))]))
  assert.equal(diffMarks(map, [['=', 'abd']]), null)
  assert.equal(diffMarks(map, [['=', 'ab']]), null)
  assert.equal(diffMarks(map, [['?', 'abc']]), null)
  assert.deepEqual(diffMarks(map, [['=', 'abc'], ['-', ' gone']]), [{ kind: 'del', pos: 4, text: ' gone' }])
})

test('diff stats count words on each side', () => {
  assert.deepEqual(diffStats([['=', 'a b'], ['+', ' c d'], ['-', ' e']]), { added: 2, removed: 1, same: false })
  assert.deepEqual(diffStats([['=', 'a']]), { added: 0, removed: 0, same: true })
})

// ---- whole blocks only in the current document (issue 18, defect 4) ----
const schema2 = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: { group: 'block', content: 'inline*' },
    heading: { group: 'block', content: 'inline*', attrs: { level: { default: 1 } } },
    bulletList: { group: 'block', content: 'listItem+' },
    listItem: { content: 'paragraph+' },
    text: { group: 'inline' },
  },
})
const P = (text) => schema2.node('paragraph', null, text ? [schema2.text(text)] : [])
const H = (text) => schema2.node('heading', { level: 1 }, [schema2.text(text)])
const UL = (...items) => schema2.node('bulletList', null, items.map((i) => schema2.node('listItem', null, [P(i)])))
const D = (...blocks) => schema2.node('doc', null, blocks)

/** The marks for turning `current` into `version`, with the server's kind of diff given. */
function marksFor (version, current, segments) {
  const map = textMap(version)
  const joined = segments.filter(([op]) => op !== '+').map(([, c]) => c).join('')
  assert.equal(joined, textMap(current).text, 'the segments make the current text')
  return diffMarks(map, segments, version, current)
}

test('a paragraph added at the end since the version is one block after the last, not text in it', () => {
  const version = D(H('Title'), P('First.'))
  const current = D(H('Title'), P('First.'), P('Added later.'))
  const marks = marksFor(version, current, [['=', 'Title\nFirst.'], ['-', '\nAdded later.']])
  assert.equal(marks.length, 1)
  assert.equal(marks[0].kind, 'blocks')
  assert.equal(marks[0].pos, version.content.size) // after the last block
  assert.deepEqual(marks[0].blocks.map((b) => [b.node.type.name, b.node.textContent]), [['paragraph', 'Added later.']])
})

test('a heading added at the start is drawn as a heading before the first block', () => {
  const version = D(P('Body.'))
  const current = D(H('New title'), P('Body.'))
  const marks = marksFor(version, current, [['-', 'New title\n'], ['=', 'Body.']])
  assert.equal(marks.length, 1)
  assert.equal(marks[0].pos, 0)
  assert.equal(marks[0].blocks[0].node.type.name, 'heading')
})

test('two blocks added in the middle, either way the diff aligns them', () => {
  const version = D(P('One.'), P('Four.'))
  const current = D(P('One.'), P('Two.'), H('Three.'), P('Four.'))
  for (const segments of [
    [['=', 'One.\n'], ['-', 'Two.\nThree.\n'], ['=', 'Four.']],
    [['=', 'One.'], ['-', '\nTwo.\nThree.'], ['=', '\nFour.']],
  ]) {
    const marks = marksFor(version, current, segments)
    assert.equal(marks.length, 1)
    assert.deepEqual(marks[0].blocks.map((b) => b.node.textContent), ['Two.', 'Three.'])
    const $pos = version.resolve(marks[0].pos)
    assert.equal($pos.depth, 0) // between top-level blocks …
    assert.equal(version.childAfter(marks[0].pos).node?.textContent ?? null,
      segments[0][1] === 'One.\n' ? 'Four.' : 'Four.') // … just before "Four."
  }
})

test('a list item added in the middle of a list goes between the version\'s items', () => {
  const version = D(UL('a', 'c'))
  const current = D(UL('a', 'b', 'c'))
  const marks = marksFor(version, current, [['=', 'a\n'], ['-', 'b\n'], ['=', 'c']])
  assert.equal(marks.length, 1)
  const $pos = version.resolve(marks[0].pos)
  assert.equal($pos.parent.type.name, 'bulletList') // between list items
  assert.equal($pos.index(), 1) // before "c"
  assert.deepEqual(marks[0].blocks[0].parents, ['listItem', 'bulletList'])
})

test('a list item at the end, and text joined to a block, keep their places', () => {
  const version = D(UL('a', 'b'), P('after'))
  const current = D(UL('a', 'b', 'z'), P('after'))
  const marks = marksFor(version, current, [['=', 'a\nb'], ['-', '\nz'], ['=', '\nafter']])
  const $pos = version.resolve(marks[0].pos)
  assert.equal($pos.parent.type.name, 'bulletList')
  assert.equal($pos.index(), 2) // after "b", still in the list
  // words deleted inside a paragraph stay inline
  const inline = marksFor(D(P('We ship.')), D(P('We ship fast.')), [['=', 'We ship'], ['-', ' fast'], ['=', '.']])
  assert.deepEqual(inline.map((m) => m.kind), ['del'])
})

test('without the current document (or when it differs), deletions stay inline as before', () => {
  const version = D(P('First.'))
  const marks = diffMarks(textMap(version), [['=', 'First.'], ['-', '\nLater.']], version, D(P('Other.')))
  assert.deepEqual(marks.map((m) => m.kind), ['del'])
})
