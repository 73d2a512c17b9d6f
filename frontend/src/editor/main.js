// Entry point of the editor page (/d/{id}). The template passes the document id as
// <body data-doc-id>; nothing inline (Content-Security-Policy friendly).
import { Editor } from '@tiptap/core'
import { getDoc } from '../shared/api.js'
import { h } from '../shared/dom.js'
import { loadIdentity } from '../shared/identity.js'
import { keepPageForOffline } from '../shared/offline.js'
import { buildExtensions } from './extensions.js'
import { mountComments } from './comments/index.js'
import { mountFooter } from './footer.js'
import { mountHistory } from './history.js'
import { createLinkUi } from './link.js'
import { createPanels } from './panels.js'
import { mountPresence } from './presence.js'
import { DocSession } from './session.js'
import { createSaveStatus } from './status.js'
import { mountTitle } from './title.js'
import { mountToolbar } from './toolbar.js'

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))

function main () {
  const docId = document.body.dataset.docId
  if (!docId) throw new Error('editor page without data-doc-id')

  const identity = loadIdentity()
  const session = new DocSession(docId)

  /** @type {{open: () => void} | null} */
  let linkUi = null
  /** @type {ReturnType<typeof mountComments> | null} */
  let commentsUi = null
  const editor = new Editor({
    element: byId('editor'),
    injectCSS: false, // its <style> tag would need 'unsafe-inline'; quire.css carries the rules
    extensions: buildExtensions({
      doc: session.doc,
      provider: session.provider,
      user: { name: identity.name, color: identity.color },
      onLink: () => linkUi?.open(),
      onComment: () => commentsUi?.startComment(),
      onCommentClick: (threadId) => commentsUi?.clicked(threadId),
    }),
    editorProps: {
      attributes: {
        class: 'prose',
        'aria-label': 'Document text',
        'aria-multiline': 'true',
        role: 'textbox',
        spellcheck: 'true',
      },
    },
  })
  performance.mark('quire:editor-ready')
  linkUi = createLinkUi(editor)

  mountToolbar(byId('toolbar'), editor, {
    openLink: () => linkUi?.open(),
    comment: () => commentsUi?.startComment(),
  })
  const title = mountTitle({
    doc: session.doc,
    input: /** @type {HTMLInputElement} */ (byId('doc-title')),
    onEnter: () => {
      editor.view.focus() // synchronously, so the next keystroke already lands in the text
      editor.commands.focus('start')
    },
  })
  mountPresence({
    awareness: session.awareness,
    editor,
    identity,
    avatars: byId('avatars'),
    cardSlot: byId('name-card-slot'),
  })
  mountFooter({ editor, counter: byId('word-count'), button: byId('shortcuts-button'), panel: byId('shortcuts-panel') })

  const panels = createPanels()
  commentsUi = mountComments({
    editor,
    doc: session.doc,
    // author of what this person writes: the name and colour others see them under right now
    me: () => {
      const user = session.awareness.getLocalState()?.user
      return user && typeof user.name === 'string' ? { name: user.name, color: user.color } : { name: identity.name, color: identity.color }
    },
    root: byId('comments'),
    headerButton: byId('comments-button'),
    panels,
  })
  mountHistory({
    docId,
    doc: session.doc,
    editor,
    panels,
    button: byId('history-button'),
    panel: byId('history-panel'),
    preview: byId('version-preview'),
  })

  const notice = byId('notice')
  /** The document is gone (deleted, or never existed): say so and stop taking input. @param {string} message */
  const closeDocument = (message) => {
    editor.setEditable(false)
    document.body.classList.add('is-closed')
    const titleInput = /** @type {HTMLInputElement} */ (byId('doc-title'))
    titleInput.disabled = true
    byId('name-card-slot').replaceChildren()
    notice.replaceChildren(message, ' ', h('a', { href: '/' }, 'Go to your documents'))
    notice.hidden = false
  }
  const showStatus = createSaveStatus(byId('save-state'))
  session.onState((state) => {
    showStatus(state)
    if (state.kind === 'closed') closeDocument(state.detail)
  })

  getDoc(docId)
    .then((doc) => title.setFallback(doc.title))
    .catch((err) => {
      if (err.status === 404) closeDocument('This document does not exist. It may have been deleted.')
    })

  session.start()
  keepPageForOffline()

  // Handy for debugging and for the end-to-end tests; not an API.
  Object.assign(window, { quire: { editor, session } })
}

main()
