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
