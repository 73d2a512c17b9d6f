// Printing (and "Save as PDF"): the page prints only the document, its title and its text
// (print.css hides the rest). Printing "with comments as footnotes" adds, for that print only,
// a superscript number after each commented passage (decorations: the text itself is never
// touched) and the numbered notes after the text; afterprint takes them away again.
//
// Ctrl/Cmd+P and the browser's own Print menu print the plain document. Only the Export menu's
// "PDF with comments as footnotes…" asks for the notes; which threads get a number, and in what
// order, is print-notes.js (the Markdown export's rule).
import { Extension } from '@tiptap/core'
import { Plugin, PluginKey } from '@tiptap/pm/state'
import { Decoration, DecorationSet } from '@tiptap/pm/view'
import { h } from '../shared/dom.js'
import { fullTime } from '../shared/time.js'
import { anchorState } from './comments/anchors.js'
import { readThreads } from './comments/store.js'
import { footnoteRefs, footnotes, isPrinted } from './print-notes.js'

const UNTITLED = 'Untitled document'
const printKey = new PluginKey('quirePrintNotes')

/** Superscript numbers and marked passages while a print with notes is being made. */
export const PrintNotes = Extension.create({
  name: 'printNotes',
  addProseMirrorPlugins () { return [notesPlugin()] },
})

function notesPlugin () {
  return new Plugin({
    key: printKey,
    state: {
      init: () => DecorationSet.empty,
      apply (tr, set) {
        /** @type {DecorationSet | undefined} */
        const next = tr.getMeta(printKey)
        return next ?? set.map(tr.mapping, tr.doc)
      },
    },
    props: {
      decorations (state) { return printKey.getState(state) },
    },
  })
}

/** @param {string} a @param {string} b */
const same = (a, b) => a.replace(/\s+/g, ' ').trim().toLowerCase() === b.toLowerCase()

/** @param {number} number */
function refWidget (number) {
  return () => h('sup', { class: 'print-ref' }, String(number))
}

/**
 * @param {{
 *   editor: import('@tiptap/core').Editor,
 *   doc: import('yjs').Doc,
 *   titleInput: HTMLInputElement,
 *   text: HTMLElement,
 * }} options
 * editor: made with the PrintNotes extension. text: the element that holds the editor; the
 * printed title goes before it, the notes after.
 * @returns {{print: (options: {comments: boolean}) => void}}
 */
export function mountPrint ({ editor, doc, titleInput, text }) {
  const heading = h('h1', { class: 'print-only print-title' })
  text.before(heading)
  /** @type {HTMLElement | null} */
  let notesSection = null
  let withComments = false // the next print, chosen from the menu, carries the notes
  /** @type {string | null} */
  let pageTitle = null // document.title while printing is the document's own (the PDF's name)

  const title = () => titleInput.value.replace(/\s+/g, ' ').trim()
  /** The title above the text, unless the text starts with it already (an imported document). */
  function showTitle () {
    const text = title()
    const first = editor.state.doc.firstChild
    heading.textContent = text
    heading.hidden = !text || (first?.type.name === 'heading' && same(first.textContent, text))
  }
  showTitle()
  // title.js writes document.title on every change of the title (typed, synced or from REST)
  const titleElement = document.querySelector('title')
  if (titleElement) new MutationObserver(showTitle).observe(titleElement, { childList: true, characterData: true, subtree: true })
  editor.on('update', showTitle)

  /** @param {DecorationSet} set */
  function setDecorations (set) {
    editor.view.dispatch(editor.state.tr.setMeta(printKey, set).setMeta('addToHistory', false))
  }

  function clearNotes () {
    notesSection?.remove()
    notesSection = null
    document.body.classList.remove('print-comments')
    if (printKey.getState(editor.state) !== DecorationSet.empty) setDecorations(DecorationSet.empty)
  }

  function addNotes () {
    clearNotes()
    const { ranges } = anchorState(editor.view)
    const threads = readThreads(doc)
    const { refs, numbers } = footnoteRefs(ranges, (id) => isPrinted(threads.get(id)))
    const state = editor.state
    const passage = (/** @type {string} */ id) => (ranges.get(id) ?? [])
      .map(({ from, to }) => state.doc.textBetween(from, to, ' '))
      .join(' … ')
    const decorations = []
    for (const id of numbers.keys()) {
      for (const { from, to } of ranges.get(id) ?? []) decorations.push(Decoration.inline(from, to, { class: 'print-noted' }))
    }
    for (const { at, id, number } of refs) {
      decorations.push(Decoration.widget(at, refWidget(number), { side: 1, key: `print-ref-${id}-${number}`, ignoreSelection: true }))
    }
    setDecorations(DecorationSet.create(state.doc, decorations))
    document.body.classList.add('print-comments')
    const notes = footnotes(numbers, threads, passage)
    if (!notes.length) return
    notesSection = h('section', { class: 'print-only print-notes', 'aria-labelledby': 'print-notes-title' },
      h('h2', { id: 'print-notes-title' }, 'Comments'),
      h('ol', { class: 'print-note-list' }, ...notes.map((note) =>
        h('li', { class: 'print-note', value: note.number },
          h('p', { class: 'print-note-quote' }, `“${note.quote}”`),
          ...note.messages.map((message) => h('p', { class: 'print-note-message' },
            h('span', { class: 'print-note-author' }, message.author),
            message.createdAt ? h('span', { class: 'print-note-time' }, ` · ${fullTime(new Date(message.createdAt))}`) : null,
            h('span', { class: 'print-note-body' }, message.body)))))))
    text.after(notesSection)
  }

  function beforePrint () {
    showTitle()
    if (withComments) addNotes()
    else clearNotes()
    if (pageTitle === null) {
      pageTitle = document.title
      document.title = title() || UNTITLED
    }
  }

  function afterPrint () {
    withComments = false
    clearNotes()
    // unless the title changed meanwhile (title.js wrote the new one)
    if (pageTitle !== null && document.title === (title() || UNTITLED)) document.title = pageTitle
    pageTitle = null
  }

  window.addEventListener('beforeprint', beforePrint)
  window.addEventListener('afterprint', afterPrint)

  return {
    print ({ comments }) {
      withComments = comments
      beforePrint() // not every browser sends beforeprint before it lays the page out
      window.print()
    },
  }
}
