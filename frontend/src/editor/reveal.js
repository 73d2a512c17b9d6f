// Opening a document from a search hit: /d/{id}?thread=<id> opens that comment thread,
// /d/{id}?find=<words> selects the first place the words appear and scrolls it into view.
// Matching ignores case and accents, as the server's search does.
import { TextSelection } from '@tiptap/pm/state'

/** @param {string} text */
function fold (text) {
  return text.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
}

/**
 * Select the first occurrence of `words` in the document (within one text block).
 * @param {import('@tiptap/core').Editor} editor
 * @param {string} words
 * @returns {boolean} whether it was found
 */
export function revealWords (editor, words) {
  const wanted = fold(words.trim()).slice(0, 200)
  if (!wanted) return false
  /** @type {{from: number, to: number} | null} */
  let found = null
  editor.state.doc.descendants((node, pos) => {
    if (found) return false
    if (!node.isTextblock) return true
    // the block's text, and for each of its characters the document position it sits at
    let text = ''
    /** @type {number[]} */
    const at = []
    node.forEach((child, offset) => {
      if (!child.isText || !child.text) return
      for (let i = 0; i < child.text.length; i++) {
        const folded = fold(child.text[i])
        text += folded
        for (let k = 0; k < folded.length; k++) at.push(pos + 1 + offset + i)
      }
    })
    const index = text.indexOf(wanted)
    if (index >= 0) found = { from: at[index], to: at[index + wanted.length - 1] + 1 }
    return false
  })
  if (!found) return false
  const { from, to } = found
  editor.view.dispatch(editor.state.tr.setSelection(TextSelection.create(editor.state.doc, from, to)).scrollIntoView())
  editor.view.focus()
  return true
}

/**
 * Once the document is here, act on ?thread= / ?find=, then take them out of the address bar.
 * @param {{editor: import('@tiptap/core').Editor, onSynced: (run: () => void) => void,
 *   showThread: (id: string) => boolean}} parts
 */
export function revealFromAddress ({ editor, onSynced, showThread }) {
  const url = new URL(location.href)
  const thread = url.searchParams.get('thread')
  const words = url.searchParams.get('find')
  if (!thread && !words) return
  url.searchParams.delete('thread')
  url.searchParams.delete('find')
  history.replaceState(history.state, '', url)
  onSynced(() => {
    if (thread && showThread(thread)) return
    if (words) revealWords(editor, words)
  })
}
