// <abbr title> and <dfn title> as imported from READMEs (crdt/markdown_html.py): a term and
// what it stands for, which the browser shows as a tooltip (its own dotted underline for
// abbr[title], italics for dfn; no inline style, as the page's CSP wants). The mark's only
// attribute is `title`, as the server writes it ({"abbr": {"title": ...}} on the text) and
// exports it back (<abbr title="...">...</abbr>).
import { Mark, mergeAttributes } from '@tiptap/core'

/** @param {'abbr' | 'dfn'} tag */
function titledMark (tag) {
  return Mark.create({
    name: tag,
    inclusive: false, // typing after the term is not part of it
    addAttributes () {
      return {
        title: {
          default: null,
          parseHTML: (el) => el.getAttribute('title'),
          renderHTML: (attrs) => (attrs.title ? { title: attrs.title } : {}),
        },
      }
    },
    parseHTML () { return [{ tag }] },
    renderHTML ({ HTMLAttributes }) { return [tag, mergeAttributes(HTMLAttributes), 0] },
  })
}

export const Abbreviation = titledMark('abbr')
export const Definition = titledMark('dfn')
