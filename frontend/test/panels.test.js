// node --test: the side panels (editor/panels.js): one thing at a time on the right, and the
// wiring every panel shares (panels.wire): the header button toggles it and says so, Escape and
// the close button close it and give the focus back, and the undo function removes all of it.
import { test } from 'node:test'
import assert from 'node:assert/strict'

let focused = null
class Element extends EventTarget {
  constructor (name) { super(); this.name = name; this.attributes = {} }
  setAttribute (key, value) { this.attributes[key] = value }
  focus () { focused = this }
  click () { this.dispatchEvent(new Event('click')) }
  key (key) {
    const event = new Event('keydown', { cancelable: true })
    event.key = key
    this.dispatchEvent(event)
    return event
  }
}
globalThis.window = { matchMedia: () => ({ matches: false, addEventListener () {} }) }
globalThis.document = { body: { dataset: {}, classList: { toggle () {} } } }
const { createPanels } = await import('../src/editor/panels.js')

test('a wired panel opens and closes by its button, its close button and Escape', () => {
  const panels = createPanels()
  assert.equal(panels.current, 'comments') // a wide screen shows the comment margin
  const button = new Element('history button')
  const panel = new Element('history panel')
  const closeButton = new Element('close')
  const heard = []
  panels.wire('history', { button, panel, closeButton, onChange: (open) => heard.push(open) })
  assert.equal(button.attributes['aria-expanded'], 'false')
  button.click()
  assert.equal(panels.current, 'history')
  assert.equal(button.attributes['aria-expanded'], 'true')
  const escape = panel.key('Escape')
  assert.ok(escape.defaultPrevented)
  assert.equal(panels.current, 'comments') // back to the margin
  assert.equal(focused, button)
  button.click()
  focused = null
  closeButton.click()
  assert.equal(panels.isOpen('history'), false)
  assert.equal(focused, button)
  assert.deepEqual(heard, [true, false, true, false])
  assert.equal(panel.key('a').defaultPrevented, false) // other keys are the panel's own
})

test('undoing the wiring leaves nothing behind', () => {
  const panels = createPanels()
  const button = new Element('share button')
  const panel = new Element('share panel')
  const heard = []
  const undo = panels.wire('share', { button, panel, onChange: (open) => heard.push(open) })
  undo()
  button.click()
  panel.key('Escape')
  assert.equal(panels.isOpen('share'), false)
  panels.open('share')
  assert.deepEqual(heard, [])
})

test('a panel that handles Escape itself is not closed by the wiring', () => {
  const panels = createPanels()
  const button = new Element('comments button')
  const panel = new Element('margin')
  panels.wire('comments', { button, panel, escape: false })
  assert.equal(button.attributes['aria-expanded'], 'true')
  assert.equal(panel.key('Escape').defaultPrevented, false)
  assert.equal(panels.current, 'comments')
})
