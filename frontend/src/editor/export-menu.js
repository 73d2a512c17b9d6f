// The Export menu in the editor's header (a menu button, WAI-ARIA APG "Menu Button"):
// Markdown downloads (links to GET /api/docs/{id}/export.md and .zip, with a share link's token
// when the reader came by one) and printing to PDF (print.js). The items are in the template.
//
// Keys: on the button, Enter, Space or ArrowDown open the menu on its first item, ArrowUp on its
// last; in the menu, ArrowDown/ArrowUp move (round), Home/End jump, a letter jumps to the next
// item starting with it, Enter or Space choose, Escape closes and gives the focus back to the
// button, Tab closes and moves on.

/**
 * @param {{
 *   button: HTMLElement,
 *   menu: HTMLElement,
 *   withToken: (url: string) => string,
 *   print: (options: {comments: boolean}) => void,
 * }} options
 */
export function mountExportMenu ({ button, menu, withToken, print }) {
  const wrap = /** @type {HTMLElement} */ (menu.parentElement)
  const items = () => /** @type {HTMLElement[]} */ ([...menu.querySelectorAll('[role=menuitem]')])
  for (const link of /** @type {NodeListOf<HTMLAnchorElement>} */ (menu.querySelectorAll('a[href]'))) {
    link.href = withToken(link.getAttribute('href') || '')
  }

  const isOpen = () => !menu.hidden

  /** @param {'first' | 'last'} at */
  function open (at) {
    menu.hidden = false
    button.setAttribute('aria-expanded', 'true')
    const list = items()
    list[at === 'first' ? 0 : list.length - 1]?.focus()
  }

  /** @param {boolean} refocus give the focus back to the button */
  function close (refocus) {
    if (!isOpen()) return
    menu.hidden = true
    button.setAttribute('aria-expanded', 'false')
    if (refocus) button.focus()
  }

  /** @param {number} step @param {HTMLElement | null} from */
  function move (step, from) {
    const list = items()
    const index = from ? list.indexOf(from) : -1
    list[(index + step + list.length) % list.length]?.focus()
  }

  /** The next item after `from` whose label starts with `letter`. @param {string} letter @param {HTMLElement | null} from */
  function jumpTo (letter, from) {
    const list = items()
    const start = from ? list.indexOf(from) : -1
    for (let k = 1; k <= list.length; k++) {
      const item = list[(start + k) % list.length]
      if ((item.textContent || '').trim().toLowerCase().startsWith(letter)) {
        item.focus()
        return
      }
    }
  }

  // a click, Enter and Space all arrive here as a click
  button.addEventListener('click', () => {
    if (isOpen()) close(false)
    else open('first')
  })
  button.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return
    event.preventDefault()
    open(event.key === 'ArrowDown' ? 'first' : 'last')
  })

  menu.addEventListener('keydown', (event) => {
    const current = /** @type {HTMLElement | null} */ (document.activeElement instanceof HTMLElement ? document.activeElement.closest('[role=menuitem]') : null)
    const key = event.key
    if (key === 'Tab') {
      close(false) // and the focus moves on
      return
    }
    if (key === 'Enter') return // the item's own click (a link downloads, a button prints)
    if (key === 'Escape') close(true)
    else if (key === 'ArrowDown' || key === 'ArrowUp') move(key === 'ArrowDown' ? 1 : -1, current)
    else if (key === 'Home' || key === 'End') items()[key === 'Home' ? 0 : items().length - 1]?.focus()
    else if (key === ' ') current?.click() // a link's Space would scroll the page
    else if (key.length === 1 && /\S/.test(key) && !event.ctrlKey && !event.metaKey && !event.altKey) jumpTo(key.toLowerCase(), current)
    else return
    // the menu's keys are the menu's: not the page's shortcuts, nor the panel or dialog behind it
    event.preventDefault()
    event.stopPropagation()
  })

  menu.addEventListener('click', (event) => {
    const item = /** @type {HTMLElement} */ (event.target).closest('[role=menuitem]')
    if (!(item instanceof HTMLElement)) return
    close(true)
    const kind = item.dataset.print
    if (kind) print({ comments: kind === 'comments' })
    // a link downloads on its own
  })

  document.addEventListener('pointerdown', (event) => {
    if (isOpen() && !wrap.contains(/** @type {Node} */ (event.target))) close(false)
  })
  wrap.addEventListener('focusout', (event) => {
    const next = /** @type {Node | null} */ (event.relatedTarget)
    if (isOpen() && next && !wrap.contains(next)) close(false)
  })
}
