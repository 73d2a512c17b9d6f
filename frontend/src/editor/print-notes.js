// Comments as numbered footnotes, for printing: which threads get a number, where their marks
// go, and what each note says. Pure (no DOM, no ProseMirror): print.js draws the result.
//
// The numbering is the Markdown export's (crdt/markdown_export.py, `comments=footnotes`): open
// threads only (not resolved, still anchored), numbered in the order their marks appear, a mark
// after every run of a thread's passage; a thread whose passage is split gets the same number
// after each part.

/**
 * @typedef {{from: number, to: number}} Range
 * @typedef {import('./comments/store.js').Thread} Thread
 * @typedef {{at: number, id: string, number: number}} Ref a superscript number after position `at`
 * @typedef {{author: string, body: string, createdAt: number | null}} NoteMessage
 * @typedef {{number: number, id: string, quote: string, messages: NoteMessage[]}} Note
 */

/** Longest quote shown in a note, in characters (the passage itself is in the text). */
export const QUOTE_MAX = 280

/**
 * Where the numbers go and which number each thread has.
 * @param {Map<string, Range[]>} ranges each thread's passage runs (comments/anchors.js threadRanges)
 * @param {(id: string) => boolean} included whether a thread is printed (open, with data)
 * @returns {{refs: Ref[], numbers: Map<string, number>}}
 */
export function footnoteRefs (ranges, included) {
  /** @type {Array<{at: number, id: string, order: number}>} */
  const ends = []
  let order = 0
  for (const [id, list] of ranges) {
    if (!included(id)) continue
    for (const { to } of list) ends.push({ at: to, id, order: order++ })
  }
  ends.sort((a, b) => a.at - b.at || a.order - b.order)
  /** @type {Map<string, number>} */
  const numbers = new Map()
  const refs = ends.map(({ at, id }) => {
    let number = numbers.get(id)
    if (number === undefined) {
      number = numbers.size + 1
      numbers.set(id, number)
    }
    return { at, id, number }
  })
  return { refs, numbers }
}

/** Whether a thread is printed as a note: open (not resolved). @param {Thread | undefined} thread */
export function isPrinted (thread) {
  return Boolean(thread && !thread.resolved)
}

/** A passage shortened for a note, on a word boundary where there is one. @param {string} text */
export function shortQuote (text) {
  const flat = text.replace(/\s+/g, ' ').trim()
  if (flat.length <= QUOTE_MAX) return flat
  const cut = flat.slice(0, QUOTE_MAX)
  const space = cut.lastIndexOf(' ')
  return `${(space > QUOTE_MAX * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`
}

/**
 * The notes, in number order.
 * @param {Map<string, number>} numbers from footnoteRefs
 * @param {Map<string, Thread>} threads comments/store.js readThreads
 * @param {(id: string) => string} passage the thread's passage as the text says it now
 * @returns {Note[]}
 */
export function footnotes (numbers, threads, passage) {
  /** @type {Note[]} */
  const notes = []
  for (const [id, number] of numbers) {
    const thread = threads.get(id)
    if (!thread) continue
    notes.push({
      number,
      id,
      quote: shortQuote(passage(id) || thread.quote),
      messages: thread.messages
        .filter((m) => !m.deleted)
        .map((m) => ({ author: m.author?.name || 'Someone', body: m.body, createdAt: m.createdAt })),
    })
  }
  return notes.sort((a, b) => a.number - b.number)
}
