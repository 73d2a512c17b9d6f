// Every formatting action once: the toolbar, its tooltips and the shortcut list read from here.

/**
 * @typedef {import('@tiptap/core').Editor} Editor
 * @typedef {{
 *   id: string, label: string, icon?: string, text?: string, keys?: string,
 *   run: (editor: Editor) => void,
 *   active?: (editor: Editor) => boolean,
 *   enabled?: (editor: Editor) => boolean,
 *   badge?: boolean,
 * }} Tool
 */

/**
 * @param {{openLink: () => void, comment?: () => void}} hooks
 * @returns {Tool[][]} groups of tools, in toolbar order
 */
export function toolGroups ({ openLink, comment = () => {}, pickImage = () => {}, describeImage = () => {} }) {
  const chain = (/** @type {Editor} */ e) => e.chain().focus()
  return [
    [
      { id: 'undo', label: 'Undo', icon: 'undo-2', keys: 'Mod-z', run: (e) => chain(e).undo().run(), enabled: (e) => e.can().undo() },
      { id: 'redo', label: 'Redo', icon: 'redo-2', keys: 'Mod-Shift-z', run: (e) => chain(e).redo().run(), enabled: (e) => e.can().redo() },
    ],
    [
      { id: 'bold', label: 'Bold', icon: 'bold', keys: 'Mod-b', run: (e) => chain(e).toggleBold().run(), active: (e) => e.isActive('bold') },
      { id: 'italic', label: 'Italic', icon: 'italic', keys: 'Mod-i', run: (e) => chain(e).toggleItalic().run(), active: (e) => e.isActive('italic') },
      { id: 'underline', label: 'Underline', icon: 'underline', keys: 'Mod-u', run: (e) => chain(e).toggleUnderline().run(), active: (e) => e.isActive('underline') },
      { id: 'strike', label: 'Strikethrough', icon: 'strikethrough', keys: 'Mod-Shift-x', run: (e) => chain(e).toggleStrike().run(), active: (e) => e.isActive('strike') },
      { id: 'code', label: 'Inline code', icon: 'code', keys: 'Mod-e', run: (e) => chain(e).toggleCode().run(), active: (e) => e.isActive('code') },
      { id: 'link', label: 'Link', icon: 'link', keys: 'Mod-k', run: () => openLink(), active: (e) => e.isActive('link') },
    ],
    [
      { id: 'bulletList', label: 'Bulleted list', icon: 'list', keys: 'Mod-Shift-8', run: (e) => chain(e).toggleBulletList().run(), active: (e) => e.isActive('bulletList') },
      { id: 'orderedList', label: 'Numbered list', icon: 'list-ordered', keys: 'Mod-Shift-7', run: (e) => chain(e).toggleOrderedList().run(), active: (e) => e.isActive('orderedList') },
      { id: 'taskList', label: 'Checklist', icon: 'list-todo', keys: 'Mod-Shift-9', run: (e) => chain(e).toggleTaskList().run(), active: (e) => e.isActive('taskList') },
    ],
    [
      { id: 'blockquote', label: 'Quote', icon: 'text-quote', keys: 'Mod-Shift-b', run: (e) => chain(e).toggleBlockquote().run(), active: (e) => e.isActive('blockquote') },
      { id: 'codeBlock', label: 'Code block', icon: 'square-code', keys: 'Mod-Alt-c', run: (e) => chain(e).toggleCodeBlock().run(), active: (e) => e.isActive('codeBlock') },
      { id: 'table', label: 'Insert table', icon: 'table', run: insertTable, active: (e) => e.isActive('table'), enabled: (e) => e.can().insertTable({ rows: 3, cols: 3 }) },
      { id: 'horizontalRule', label: 'Divider line', icon: 'minus', run: (e) => chain(e).setHorizontalRule().run() },
    ],
    [
      { id: 'image', label: 'Insert image', icon: 'image', run: () => pickImage() },
      { id: 'imageDescription', label: 'Image alt text and caption', icon: 'pencil', keys: 'Mod-Alt-y', run: () => describeImage(), enabled: (e) => e.isActive('image') },
    ],
    [
      // badge: the number of open threads (comments/index.js keeps it current)
      { id: 'comment', label: 'Comment', icon: 'message-square-plus', keys: 'Mod-Alt-m', run: () => comment(), badge: true },
    ],
  ]
}

/** Shown only while the cursor is in a table. @returns {Tool[]} */
export function tableTools () {
  const chain = (/** @type {Editor} */ e) => e.chain().focus()
  return [
    { id: 'addRowAfter', label: 'Add row below', text: '+ Row', run: (e) => chain(e).addRowAfter().run() },
    { id: 'addColumnAfter', label: 'Add column to the right', text: '+ Column', run: (e) => chain(e).addColumnAfter().run() },
    { id: 'deleteRow', label: 'Delete row', text: '− Row', run: (e) => chain(e).deleteRow().run() },
    { id: 'deleteColumn', label: 'Delete column', text: '− Column', run: (e) => chain(e).deleteColumn().run() },
    { id: 'toggleHeaderRow', label: 'Header row on/off', text: 'Header', run: (e) => chain(e).toggleHeaderRow().run() },
    { id: 'deleteTable', label: 'Delete table', icon: 'grid-2x2-x', run: (e) => chain(e).deleteTable().run() },
  ]
}

/** Paragraph styles for the style picker. */
export const BLOCK_STYLES = [
  { value: 'p', label: 'Normal text', keys: 'Mod-Alt-0' },
  { value: 'h1', label: 'Heading 1', keys: 'Mod-Alt-1' },
  { value: 'h2', label: 'Heading 2', keys: 'Mod-Alt-2' },
  { value: 'h3', label: 'Heading 3', keys: 'Mod-Alt-3' },
  { value: 'h4', label: 'Heading 4', keys: 'Mod-Alt-4' },
  { value: 'h5', label: 'Heading 5', keys: 'Mod-Alt-5' },
  { value: 'h6', label: 'Heading 6', keys: 'Mod-Alt-6' },
]

/** @param {Editor} editor @param {string} value */
export function setBlockStyle (editor, value) {
  const chain = editor.chain().focus()
  if (value === 'p') chain.setParagraph().run()
  else chain.setHeading({ level: /** @type {1|2|3|4|5|6} */ (Number(value.slice(1))) }).run()
}

/** @param {Editor} editor */
export function currentBlockStyle (editor) {
  for (const level of [1, 2, 3, 4, 5, 6]) if (editor.isActive('heading', { level })) return `h${level}`
  return editor.isActive('paragraph') ? 'p' : ''
}

/**
 * Insert a 3×3 table with a header row. At the very end of the document also add an empty
 * paragraph after it, so there is somewhere to keep writing (we do not use TrailingNode, which
 * every peer would run at once).
 * @param {Editor} editor
 */
function insertTable (editor) {
  const { $to } = editor.state.selection
  const atEnd = $to.depth >= 1 && $to.after(1) === editor.state.doc.content.size
  const chain = editor.chain().focus().insertTable({ rows: 3, cols: 3, withHeaderRow: true })
  if (atEnd) {
    chain.command(({ tr, state }) => {
      tr.insert(tr.doc.content.size, state.schema.nodes.paragraph.create())
      return true
    })
  }
  chain.run()
}

/** Shortcuts that have no button, for the shortcut list. */
export const EXTRA_SHORTCUTS = [
  { label: 'Redo (alternative)', keys: 'Mod-y' },
  { label: 'Line break inside a paragraph', keys: 'Shift-Enter' },
  { label: 'Indent list item', keys: 'Tab' },
  { label: 'Outdent list item', keys: 'Shift-Tab' },
  { label: 'Show this list (outside the text)', keys: '/' },
  { label: 'Search all documents (Mod-K outside the text)', keys: 'Mod-Shift-k' },
  { label: 'Find in this document', keys: 'Mod-f' },
  { label: 'Find and replace', keys: 'Mod-h' },
  { label: 'Suggesting mode on/off', keys: 'Mod-Alt-Shift-s' },
]
