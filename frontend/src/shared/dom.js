// Tiny DOM helpers shared by the dashboard and the editor (no framework on purpose).

/**
 * Create an element: h('button', {class: 'btn', type: 'button'}, 'Save').
 * Attributes named on* are refused: handlers are attached with addEventListener (CSP friendly).
 * @param {string} tag
 * @param {Record<string, any>} [attrs]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h (tag, attrs = {}, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith('on')) throw new Error(`use addEventListener, not ${key}`)
    if (key === 'dataset') Object.assign(el.dataset, value)
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/** @param {Element} el @param {Array<Node|string|null|undefined|false>} children */
function append (el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue
    el.append(child)
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg'

/**
 * An icon from the sprite at /static/icons.svg (Lucide icons), hidden from assistive tech:
 * the button that holds it carries the accessible name.
 * @param {string} name
 * @returns {SVGSVGElement}
 */
export function icon (name) {
  const svg = document.createElementNS(SVG_NS, 'svg')
  svg.setAttribute('class', 'icon')
  svg.setAttribute('aria-hidden', 'true')
  svg.setAttribute('focusable', 'false')
  const use = document.createElementNS(SVG_NS, 'use')
  use.setAttribute('href', `${iconSprite()}#i-${name}`)
  svg.append(use)
  return svg
}

let sprite = ''
function iconSprite () {
  if (!sprite) sprite = document.body.dataset.icons || '/static/icons.svg'
  return sprite
}

/** True on Apple platforms, where shortcuts read ⌘ instead of Ctrl. */
export const isMac = typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)

/**
 * Human form of a ProseMirror-style key binding: 'Mod-Shift-x' -> 'Ctrl+Shift+X' (or ⌘⇧X).
 * @param {string} keys
 */
export function formatKeys (keys) {
  const parts = keys.split('-')
  const names = parts.map((part) => {
    const p = part.toLowerCase()
    if (p === 'mod') return isMac ? '⌘' : 'Ctrl'
    if (p === 'shift') return isMac ? '⇧' : 'Shift'
    if (p === 'alt') return isMac ? '⌥' : 'Alt'
    if (p === 'ctrl') return isMac ? '⌃' : 'Ctrl'
    return part.length === 1 ? part.toUpperCase() : part
  })
  return names.join(isMac ? '' : '+')
}

/** aria-keyshortcuts form: 'Mod-Shift-x' -> 'Control+Shift+X'. @param {string} keys */
export function ariaKeys (keys) {
  return keys.split('-').map((part) => {
    const p = part.toLowerCase()
    if (p === 'mod') return isMac ? 'Meta' : 'Control'
    if (p === 'shift') return 'Shift'
    if (p === 'alt') return 'Alt'
    return part.toUpperCase()
  }).join('+')
}
