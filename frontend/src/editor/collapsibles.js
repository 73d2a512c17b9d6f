// Collapsibles: the <details>/<summary> of imported READMEs (crdt/markdown_html.py) as
// Tiptap's details nodes (details > detailsSummary + detailsContent). The open state is each
// reader's own (not stored in the document, so opening one never edits it for co-authors).
// The toggle is drawn by CSS (quire.css, .prose [data-type="details"]), no inline style.
import { Details, DetailsContent, DetailsSummary } from '@tiptap/extension-details'

/** @param {{element: HTMLButtonElement, isOpen: boolean}} options */
function renderToggle ({ element, isOpen }) {
  element.className = 'details-toggle'
  element.setAttribute('aria-expanded', String(isOpen))
  element.setAttribute('aria-label', isOpen ? 'Hide the details' : 'Show the details')
}

export const collapsibles = [
  Details.configure({ persist: false, renderToggleButton: renderToggle }),
  DetailsSummary,
  DetailsContent,
]
