// The formatting toolbar: buttons with active states, shortcut tooltips and roving focus.
import { ariaKeys, formatKeys, h, icon } from '../shared/dom.js'
import { BLOCK_STYLES, currentBlockStyle, setBlockStyle, tableTools, toolGroups } from './tools.js'

/** @param {import('./tools.js').Tool} tool */
function toolButton (tool) {
  const tip = tool.keys ? `${tool.label} (${formatKeys(tool.keys)})` : tool.label
  const button = h('button', {
    type: 'button',
    class: tool.text ? 'tb-btn tb-text' : 'tb-btn',
    'aria-label': tool.label,
    'aria-keyshortcuts': tool.keys ? ariaKeys(tool.keys) : null,
    'aria-pressed': tool.active ? 'false' : null,
    'data-tip': tip,
    'data-tool': tool.id,
    tabindex: '-1',
  }, tool.icon ? icon(tool.icon) : null, tool.text || null,
  tool.badge ? h('span', { class: 'tb-badge', 'aria-hidden': 'true', hidden: true }) : null)
  return button
}

/**
 * @param {HTMLElement} root the element with role=toolbar
 * @param {import('@tiptap/core').Editor} editor
 * @param {{openLink: () => void, comment: () => void, canComment?: () => boolean}} hooks
 * canComment: whether the Comment button works (a commenter comments while the text is read-only)
 * @returns {{refresh: () => void}} call when what this person may do changed
 */
export function mountToolbar (root, editor, hooks) {
  const canComment = hooks.canComment || (() => editor.isEditable)
  /** @type {Array<{tool: import('./tools.js').Tool, button: HTMLElement}>} */
  const entries = []

  const select = /** @type {HTMLSelectElement} */ (h('select', {
    class: 'tb-select', 'aria-label': 'Paragraph style', 'data-tip': 'Paragraph style', tabindex: '-1',
  }, ...BLOCK_STYLES.map((s) => h('option', { value: s.value, title: formatKeys(s.keys) }, s.label)),
  h('option', { value: '', hidden: true, disabled: true }, '—')))
  select.addEventListener('change', () => setBlockStyle(editor, select.value))

  const groups = toolGroups(hooks)
  root.replaceChildren()
  groups.forEach((group, index) => {
    const el = h('div', { class: 'tb-group', role: 'group' })
    for (const tool of group) {
      const button = toolButton(tool)
      entries.push({ tool, button })
      el.append(button)
    }
    root.append(el)
    if (index === 0) root.append(h('div', { class: 'tb-group' }, select))
  })

  const tableGroup = h('div', { class: 'tb-group tb-table', role: 'group', 'aria-label': 'Table', hidden: true })
  for (const tool of tableTools()) {
    const button = toolButton(tool)
    entries.push({ tool, button })
    tableGroup.append(button)
  }
  root.append(tableGroup)

  entries[0].button.tabIndex = 0

  const byButton = new Map(entries.map((e) => [e.button, e.tool]))
  // Keep the text selection: a click on a button must not take focus from the page.
  root.addEventListener('mousedown', (event) => {
    const target = /** @type {HTMLElement} */ (event.target)
    if (target.closest('button')) event.preventDefault()
  })
  root.addEventListener('click', (event) => {
    const button = /** @type {HTMLElement} */ (event.target).closest('button')
    const tool = button && byButton.get(button)
    if (tool && button.getAttribute('aria-disabled') !== 'true') tool.run(editor)
  })

  // Roving tabindex: Tab enters the toolbar once, arrows move inside it (WAI-ARIA toolbar).
  const focusables = () => /** @type {HTMLElement[]} */ ([...root.querySelectorAll('button, select')]
    .filter((el) => !el.closest('[hidden]')))
  root.addEventListener('keydown', (event) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return
    if (event.target === select && (event.key === 'Home' || event.key === 'End')) return
    const items = focusables()
    const index = items.indexOf(/** @type {HTMLElement} */ (document.activeElement))
    if (index < 0) return
    event.preventDefault()
    let next = index
    if (event.key === 'ArrowLeft') next = (index - 1 + items.length) % items.length
    if (event.key === 'ArrowRight') next = (index + 1) % items.length
    if (event.key === 'Home') next = 0
    if (event.key === 'End') next = items.length - 1
    for (const item of items) item.tabIndex = -1
    items[next].tabIndex = 0
    items[next].focus()
  })
  root.addEventListener('focusin', (event) => {
    for (const item of focusables()) item.tabIndex = item === event.target ? 0 : -1
  })

  let frame = 0
  const refresh = () => {
    frame = 0
    for (const { tool, button } of entries) {
      if (tool.active) button.setAttribute('aria-pressed', String(tool.active(editor)))
      const enabled = tool.id === 'comment' ? canComment() : editor.isEditable && (!tool.enabled || tool.enabled(editor))
      button.setAttribute('aria-disabled', String(!enabled))
    }
    select.value = editor.isEditable ? currentBlockStyle(editor) : '' // readers get no style to pick
    select.disabled = !editor.isEditable
    tableGroup.hidden = !editor.isActive('table')
  }
  const schedule = () => { if (!frame) frame = requestAnimationFrame(refresh) }
  editor.on('transaction', schedule)
  editor.on('focus', schedule)
  editor.on('update', schedule) // setEditable() emits one
  refresh()
  return { refresh: schedule }
}
