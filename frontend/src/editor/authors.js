// Who wrote what (issue 15): "Show authors" colours every passage by the account that typed it,
// with a legend. Each character of the document is a Yjs item that keeps the client id of the
// session that made it; which account a client id belongs to is recorded by the server, in the
// document's "authors" map (crdt/authors.py), never by a browser. So the colours are read from
// the Yjs document itself: live while people type, the same after a reload or a restart, and in
// a version's preview (from the server's runs: see renderVersion in version-view.js).
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'
import * as Y from 'yjs'
import { h } from '../shared/dom.js'

export const PALETTE_SIZE = 8
const STORAGE_KEY = 'quire:show-authors'
const key = new PluginKey('authors')
const NOBODY = 'Nobody recorded'

/** @typedef {{id: string, name: string | null}} Recorded */
/** @typedef {{from: number, to: number, account: string}} Span */

/** Recorded owners of client ids. @param {Y.Map<any>} map @returns {Map<number, Recorded>} */
function owners (map) {
  /** @type {Map<number, Recorded>} */
  const found = new Map()
  map.forEach((value, client) => {
    if (value && typeof value === 'object' && typeof value.id === 'string' && /^\d+$/.test(client)) {
      found.set(Number(client), { id: value.id, name: typeof value.name === 'string' ? value.name : null })
    }
  })
  return found
}

/**
 * Where each recorded account's text is, in ProseMirror positions: the Yjs fragment walked as
 * y-tiptap renders it (an element is its node, a leaf is one position, text is its length).
 * @param {Y.XmlFragment} fragment @param {import('@tiptap/pm/model').Schema} schema
 * @param {Map<number, Recorded>} recorded @returns {{spans: Span[], unrecorded: number} | null}
 */
export function authorSpans (fragment, schema, recorded) {
  /** @type {Span[]} */
  const spans = []
  let unrecorded = 0
  let pos = 0
  /** @type {Array<[Y.XmlElement | Y.XmlText, number]>} child, then -1 for "close it" */
  const stack = fragment.toArray().reverse().map((child) => /** @type {any} */ ([child, 0]))
  while (stack.length) {
    const [type, phase] = /** @type {[any, number]} */ (stack.pop())
    if (phase === -1) { pos += 1; continue }
    if (type instanceof Y.XmlText) {
      for (let item = type._start; item; item = item.right) {
        if (item.deleted || !item.countable) continue
        const owner = recorded.get(item.id.client)
        if (!owner) unrecorded += item.length
        else {
          const last = spans[spans.length - 1]
          if (last && last.to === pos && last.account === owner.id) last.to += item.length
          else spans.push({ from: pos, to: pos + item.length, account: owner.id })
        }
        pos += item.length
      }
    } else if (type instanceof Y.XmlElement) {
      const nodeType = schema.nodes[type.nodeName]
      if (!nodeType) return null // not this editor's schema: nothing sure to show
      if (nodeType.isLeaf) { pos += 1; continue }
      pos += 1
      stack.push([type, -1])
      for (const child of type.toArray().reverse()) stack.push(/** @type {any} */ ([child, 0]))
    }
  }
  return { spans, unrecorded }
}

/**
 * "Show authors": the toggle, the legend and the editor's colours.
 * @param {{doc: Y.Doc}} options
 */
export function createAuthors ({ doc }) {
  const map = doc.getMap('authors')
  const fragment = doc.getXmlFragment('default')
  let shown = false
  try { shown = localStorage.getItem(STORAGE_KEY) === '1' } catch { /* storage blocked */ }
  /** @type {Set<() => void>} */
  const listeners = new Set()
  /** @type {Map<string, number>} characters per account, as last drawn */
  let counts = new Map()
  let unrecorded = 0

  /**
   * The record, read once per change of it: whose each client id is, each account's colour
   * (accounts in a fixed order, by id, so everyone sees the same colour for the same person)
   * and the name it was recorded under.
   */
  const read = () => {
    const recorded = owners(map)
    const order = [...new Set([...recorded.values()].map((o) => o.id))].sort()
    /** @type {Map<string, string>} */
    const names = new Map()
    for (const owner of recorded.values()) if (owner.name && !names.has(owner.id)) names.set(owner.id, owner.name)
    return { recorded, colour: new Map(order.map((id, at) => [id, at % PALETTE_SIZE])), names }
  }
  let people = read()
  map.observe(() => { people = read() })
  /** @param {string} account */
  const colourClass = (account) => `author-c${people.colour.get(account) ?? 0}`
  /** @param {string} account */
  const nameOf = (account) => people.names.get(account) ??
    (account.startsWith('link:') ? 'Someone with the link' : 'A former account')

  /** @param {import('@tiptap/pm/view').EditorView} view */
  const decorate = (view) => {
    const found = authorSpans(fragment, view.state.schema, people.recorded)
    const size = view.state.doc.content.size
    if (!found || found.spans.some((span) => span.to > size)) return null // not in step yet
    counts = new Map()
    unrecorded = found.unrecorded
    const decorations = found.spans.map((span) => {
      counts.set(span.account, (counts.get(span.account) ?? 0) + span.to - span.from)
      return Decoration.inline(span.from, span.to, {
        class: `author ${colourClass(span.account)}`,
        title: `Written by ${nameOf(span.account)}`,
      })
    })
    return DecorationSet.create(view.state.doc, decorations)
  }

  /** @type {Set<() => void>} */
  const toggleWakers = new Set()
  const extension = Extension.create({
    name: 'authors',
    addProseMirrorPlugins () {
      return [new Plugin({
        key,
        state: {
          init: () => DecorationSet.empty,
          apply (tr, set) {
            const next = tr.getMeta(key)
            return next !== undefined ? next : set.map(tr.mapping, tr.doc)
          },
        },
        props: { decorations: (state) => key.getState(state) },
        view (view) {
          /** @type {ReturnType<typeof setTimeout> | null} */
          let timer = null
          let misses = 0 // redraws that found Yjs and the view out of step, in a row
          const redraw = () => {
            timer = null
            if (view.isDestroyed) return
            const set = shown ? decorate(view) : DecorationSet.empty
            if (set === null) {
              // out of step for a moment (a change on its way); give up after a few tries
              // until the text changes again (a document this editor cannot show as it is)
              if (++misses < 5) schedule()
              return
            }
            misses = 0
            view.dispatch(view.state.tr.setMeta(key, set).setMeta('addToHistory', false))
            for (const listener of listeners) listener()
          }
          const schedule = () => { if (!timer) timer = setTimeout(redraw, 120) }
          const onRecord = () => schedule()
          map.observe(onRecord)
          listeners.add(schedule)
          const wake = () => schedule()
          toggleWakers.add(wake)
          if (shown) schedule()
          return {
            update (v, prev) {
              if (shown && v.state.doc !== prev.doc) {
                misses = 0
                schedule()
              }
            },
            destroy () {
              if (timer) clearTimeout(timer)
              map.unobserve(onRecord)
              listeners.delete(schedule)
              toggleWakers.delete(wake)
            },
          }
        },
      })]
    },
  })

  /**
   * The toggle button and its legend.
   * @param {{button: HTMLButtonElement, legend: HTMLElement}} parts
   */
  const mount = ({ button, legend }) => {
    const drawLegend = () => {
      const items = [...counts.entries()].sort((a, b) => b[1] - a[1])
      legend.replaceChildren(...items.map(([account, characters]) => h('li', { class: 'authors-legend-item' },
        h('span', { class: `author-swatch ${colourClass(account)}`, 'aria-hidden': 'true' }),
        h('span', { class: 'authors-legend-name' }, nameOf(account)),
        h('span', { class: 'visually-hidden' }, `, ${characters} characters`),
      )))
      if (unrecorded > 0) {
        legend.append(h('li', { class: 'authors-legend-item' },
          h('span', { class: 'author-swatch author-none', 'aria-hidden': 'true' }),
          h('span', { class: 'authors-legend-name' }, NOBODY)))
      }
      legend.hidden = !shown
    }
    const apply = () => {
      document.body.classList.toggle('show-authors', shown)
      button.setAttribute('aria-pressed', String(shown))
      button.title = shown ? 'Hide who wrote what' : 'Colour the text by who wrote it'
      if (!shown) legend.hidden = true
      for (const wake of toggleWakers) wake()
    }
    listeners.add(drawLegend)
    button.addEventListener('click', () => {
      shown = !shown
      try { localStorage.setItem(STORAGE_KEY, shown ? '1' : '0') } catch { /* storage blocked */ }
      apply()
    })
    apply()
  }

  return {
    extension,
    mount,
    /** @param {string} account */
    colourClass,
    /** @param {string} account */
    nameOf,
    shown: () => shown,
  }
}
