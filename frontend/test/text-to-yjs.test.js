// node --test: typed text reaches Yjs where it was typed (issue 18, defect 5). Two peers, each a
// Y.Doc synced from ProseMirror documents the way the Yjs binding (y-tiptap) does it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import * as Y from 'yjs'
import { Schema } from '@tiptap/pm/model'
import { Transform } from '@tiptap/pm/transform'
import { initProseMirrorDoc, updateYFragment, ySyncPluginKey } from '@tiptap/y-tiptap'
import { writeTextStep, yTextAt } from '../src/editor/text-to-yjs.js'

const schema = new Schema({
  nodes: {
    doc: { content: 'block+' },
    paragraph: { group: 'block', content: 'inline*' },
    text: { group: 'inline' },
    hardBreak: { group: 'inline', inline: true },
  },
  marks: { bold: {} },
})
const p = (...content) => schema.node('paragraph', null, content)
const t = (text, marks) => schema.text(text, marks)

/** One person: a Y.Doc and the ProseMirror document the binding last synced with it. */
class Peer {
  constructor (clientID, fixed) {
    this.ydoc = new Y.Doc()
    this.ydoc.clientID = clientID // fixed ids: concurrent inserts at one spot order the same way every run
    this.fragment = this.ydoc.getXmlFragment('default')
    this.meta = { mapping: new Map(), isOMark: new Map() }
    this.doc = null
    this.fixed = fixed
  }

  /** A local change, synced to Yjs as the binding does (with the fix first when `fixed`). */
  change (transform) {
    this.ydoc.transact(() => {
      if (this.fixed) for (const step of transform.steps) writeTextStep(this.fragment, this.meta.mapping, this.doc, step)
      updateYFragment(this.ydoc, this.fragment, transform.doc, this.meta)
    }, ySyncPluginKey)
    this.doc = transform.doc
  }

  type (pos, text, to = pos) { this.change(new Transform(this.doc).replaceWith(pos, to, t(text))) }
  start (doc) { this.doc = doc; this.change(new Transform(doc)) }

  /** Take the other's updates and draw the document again, as the binding does for a remote change. */
  receive (other) {
    Y.applyUpdate(this.ydoc, Y.encodeStateAsUpdate(other.ydoc, Y.encodeStateVector(this.ydoc)))
    const { doc, meta } = initProseMirrorDoc(this.fragment, schema)
    this.doc = doc
    this.meta = meta
  }

  get text () { return this.doc.textContent }
}

/** Two people at the end of "Start.": Bea types "bra" before Ada's "a" while Ada types "l". */
function typeAtOneSpot (fixed) {
  const ada = new Peer(1, fixed)
  const bea = new Peer(2, fixed)
  ada.start(schema.node('doc', null, [p(t('Start.'))]))
  ada.type(7, 'a')
  bea.receive(ada) // Bea's caret stays after "Start.", before Ada's "a"
  for (const [i, letter] of [...'bra'].entries()) bea.type(7 + i, letter)
  ada.type(8, 'l') // at the same time, after her own "a"
  ada.receive(bea)
  bea.receive(ada)
  return [ada.text, bea.text]
}

test('a letter typed just before the same letter goes before it, so each person keeps their own text together', () => {
  assert.deepEqual(typeAtOneSpot(true), ['Start.braal', 'Start.braal'])
})

test('the binding alone puts it after the co-author\'s letter (the defect this fixes)', () => {
  // Bea's "a" lands after Ada's "a"; Ada's "l" goes between them: Bea's word is split
  assert.deepEqual(typeAtOneSpot(false), ['Start.brala', 'Start.brala'])
})

test('a deleted letter among equal letters is the one deleted, and a replacement lands in place', () => {
  const ada = new Peer(1, true)
  ada.start(schema.node('doc', null, [p(t('aaa'), schema.node('hardBreak'), t('bb'))]))
  const first = ada.fragment.get(0).get(0)
  const firstIds = () => {
    const ids = []
    for (let item = first._start; item; item = item.right) {
      if (!item.deleted && item.countable) for (let k = 0; k < item.length; k++) ids.push(item.id.clock + k)
    }
    return ids
  }
  const [a1, a2, a3] = firstIds()
  ada.change(new Transform(ada.doc).delete(1, 2)) // the first "a"
  assert.deepEqual(firstIds(), [a2, a3], `not ${a1}`)
  ada.type(4, 'x', 5) // the first "b", after the break
  assert.equal(ada.fragment.get(0).get(2).toString(), 'xb')
  assert.equal(ada.text, 'aaxb')
})

test('formatting of typed text is the text\'s own; Yjs that does not hold the document is left alone', () => {
  const ada = new Peer(1, true)
  ada.start(schema.node('doc', null, [p(t('bold', [schema.mark('bold')]), t(' plain'))]))
  ada.type(5, 'er') // inside the bold text's run, after it: typed plain
  assert.deepEqual(JSON.parse(JSON.stringify(ada.fragment.get(0).get(0).toDelta())), [
    { insert: 'bold', attributes: { bold: {} } }, { insert: 'er plain' }])
  const stale = schema.node('doc', null, [p(t('other text'))])
  assert.equal(yTextAt(ada.fragment, ada.meta.mapping, stale, 3), null)
  assert.equal(writeTextStep(ada.fragment, ada.meta.mapping, stale, new Transform(stale).replaceWith(3, 3, t('x')).steps[0]), false)
  assert.equal(ada.fragment.get(0).get(0).toDelta().map((d) => d.insert).join(''), 'bolder plain')
})
