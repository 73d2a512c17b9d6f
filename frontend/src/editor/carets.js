// How other people's carets and selections look. The label text colour is chosen for contrast,
// so a name flag stays readable whatever colour a peer announces.

const HEX = /^#[0-9a-fA-F]{6}$/

/** Relative luminance (WCAG) of #rrggbb. @param {string} hex */
export function luminance (hex) {
  const channel = (/** @type {number} */ i) => {
    const c = parseInt(hex.slice(i, i + 2), 16) / 255
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4
  }
  return 0.2126 * channel(1) + 0.7152 * channel(3) + 0.0722 * channel(5)
}

/** Black or white, whichever reads better on `hex`. @param {string} hex */
export function textColorOn (hex) {
  if (!HEX.test(hex)) return '#ffffff'
  const l = luminance(hex)
  // contrast with white: 1.05 / (l + 0.05); with black: (l + 0.05) / 0.05
  return 1.05 / (l + 0.05) >= (l + 0.05) / 0.05 ? '#ffffff' : '#111111'
}

/**
 * Another person's caret: a coloured bar with their name above it. The name is drawn by CSS
 * (::after, from data-name) so the widget holds no text: text inside an inline widget stops
 * the browser's own caret movement and keyboard selection at it (Home, Shift+End, word jumps).
 * @param {{name?: string, color?: string}} user
 */
export function renderCaret (user) {
  const color = user.color && HEX.test(user.color) ? user.color : '#6b7280'
  const name = (user.name || 'Someone').slice(0, 40)
  const caret = document.createElement('span')
  caret.className = 'collaboration-carets__caret'
  caret.setAttribute('aria-hidden', 'true') // the avatars row names who is here
  caret.style.borderColor = color
  caret.style.setProperty('--caret-color', color)
  caret.style.setProperty('--caret-text', textColorOn(color))
  caret.dataset.name = name
  caret.dataset.color = color
  return caret
}

/** @param {{color?: string}} user */
export function renderSelection (user) {
  if (!user.color || !HEX.test(user.color)) return {}
  return { style: `background-color: ${user.color}33`, class: 'collaboration-carets__selection' }
}
