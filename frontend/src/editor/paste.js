// What pasting brings in: see cleanPastedHtml.

const STYLE_ATTR = /\s(?:style|class)\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'>]+)/gi
const TAG = /<[a-zA-Z][^<>]*>/g

/** `html` without its `<tag>…</tag>` blocks (one pass: indexOf, no backtracking). */
function withoutBlocks (/** @type {string} */ html, /** @type {string} */ tag) {
  const lower = html.toLowerCase()
  let out = ''
  let at = 0
  for (;;) {
    const start = lower.indexOf(`<${tag}`, at)
    if (start < 0) break
    out += html.slice(at, start)
    const end = lower.indexOf(`</${tag}>`, start)
    at = end < 0 ? html.length : end + tag.length + 3
  }
  return out + html.slice(at)
}

/**
 * Pasted HTML (Word, Google Docs) is full of style attributes and style sheets. Any parse of it
 * in this page (ProseMirror's, even an inert DOMParser's) makes the Content-Security-Policy
 * refuse each inline style with a console error; they would be dropped anyway. So they are cut
 * from the HTML text before anything parses it (linear: one pass per pattern, no nesting).
 * @param {string} html
 */
export function cleanPastedHtml (html) {
  let clean = html
  for (const tag of ['style', 'script']) clean = withoutBlocks(clean, tag)
  return clean.replace(TAG, (tag) => tag.replace(STYLE_ATTR, ''))
}
