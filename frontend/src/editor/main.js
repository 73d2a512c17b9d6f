// Entry point of the editor page (/d/{id}). The template passes the document id as
// <body data-doc-id>; nothing inline (Content-Security-Policy friendly).
import { Editor } from '@tiptap/core'
import { getDoc, listPeople, setAccessToken, withAccessToken } from '../shared/api.js'
import { accountsRequired, captureLinkToken, forgetLinkToken, linkPerson, loginUrl, pagePerson, signedInAccount, wireSignOut } from '../shared/auth.js'
import { h, icon } from '../shared/dom.js'
import { loadIdentity } from '../shared/identity.js'
import { mountNotifications } from '../shared/notifications.js'
import { askCopy } from '../shared/copy-dialog.js'
import { keepPageForOffline } from '../shared/offline.js'
import { mountPalette } from '../shared/search.js'
import { buildExtensions } from './extensions.js'
import { createAuthors } from './authors.js'
import { mountSuggestions } from './suggestions/panel.js'
import { newUndoStep, suggestionExtensions } from './suggestions/track.js'
import { createFigureUi } from './figure-dialog.js'
import { figureExtensions } from './figures.js'
import { mountComments } from './comments/index.js'
import { setMentionPeople } from './comments/mention-picker.js'
import { mountExportMenu } from './export-menu.js'
import { mountFind } from './find.js'
import { mountFooter } from './footer.js'
import { trackHeaderHeight } from './header.js'
import { mountHistory } from './history.js'
import { createLinkUi } from './link.js'
import { mountOutline } from './outline.js'
import { createPanels } from './panels.js'
import { caretOnBlankClicks, startInTitleIfNew } from './clicks.js'
import { mountPresence } from './presence.js'
import { PrintNotes, mountPrint } from './print.js'
import { revealFromAddress } from './reveal.js'
import { canCommentAs, canEditAs, cachedRole, rememberRole, roleBanner } from './roles.js'
import { catchUpSelection } from './selection-sync.js'
import { DocSession } from './session.js'
import { mountShare } from './share.js'
import { createSaveStatus } from './status.js'
import { mountTitle } from './title.js'
import { mountToolbar } from './toolbar.js'

/** Set before reloading because the server refused our changes (see onDenied below). */
const ROLE_CHANGED_KEY = 'quire.roleChanged'

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))

function main () {
  const docId = document.body.dataset.docId
  if (!docId) throw new Error('editor page without data-doc-id')

  // First of all: take a share link's token out of the address bar (see auth.js).
  const token = captureLinkToken(docId)
  const account = signedInAccount()
  if (accountsRequired() && !account && !token) {
    location.replace(loginUrl())
    return
  }
  setAccessToken(token)
  wireSignOut()
  mountNotifications()
  trackHeaderHeight(/** @type {HTMLElement} */ (document.querySelector('.editor-bar')))

  // Who this is in comment data: the account (id and username from the page), or for a share
  // link "link:<share id>"; nobody without accounts (crdt/COMMENTS.md)
  const person = pagePerson()
  const identity = account && person && !person.id?.startsWith('link:')
    ? loadIdentity({ accountName: account.name, id: person.id, username: person.username ?? account.username })
    : loadIdentity({ accountName: account?.name, id: token ? linkPerson(docId, person) : null })
  const session = new DocSession(docId, { token })

  // What this person may do. Until the server says (GET /api/docs/{id}: `role`), the text is
  // read-only, unless this device knows the role from an earlier visit: a viewer must never
  // make a change the server would refuse (it would stay in this device's copy).
  /** @type {import('./roles.js').Role | null} */
  let role = null
  const remembered = cachedRole(docId)
  let closed = false
  // the owner shares; an editor with an account too when the owner lets editors share
  const sharing = { editors: false, mine: false }
  const mayShare = () => !closed && (role === 'owner' || (role === 'editor' && sharing.mine && Boolean(account)))
  const mayEdit = () => !closed && canEditAs(role ?? remembered)
  /** @type {ReturnType<typeof mountSuggestions> | null} */
  let suggestUi = null
  const mode = () => suggestUi?.mode ?? (canEditAs(remembered) ? 'editing' : 'viewing')
  // the text takes input: editors unless Viewing; commenters while Suggesting (suggestions only)
  const textEditable = () => !closed && (
    (canEditAs(role ?? remembered) && mode() !== 'viewing') ||
    (canCommentAs(role ?? remembered) && mode() === 'suggesting'))
  let unsupportedTold = 0
  const mayComment = () => !closed && canCommentAs(role ?? remembered)

  /** @type {{open: () => void} | null} */
  let linkUi = null
  /** @type {{pick: () => void, describe: () => void} | null} */
  let figureUi = null
  const uploadStatus = byId('upload-status')
  let problemShown = 0
  const figures = figureExtensions({
    docId,
    onStatus: (message) => {
      if (!message && Date.now() < problemShown) return // a problem stays readable a while
      uploadStatus.classList.remove('is-error')
      uploadStatus.textContent = message
      uploadStatus.hidden = !message
    },
    onError: (message) => {
      problemShown = Date.now() + 8000
      uploadStatus.classList.add('is-error')
      uploadStatus.textContent = message
      uploadStatus.hidden = false
      setTimeout(() => { if (Date.now() >= problemShown) uploadStatus.hidden = true }, 8100)
    },
  })
  /** @type {ReturnType<typeof mountComments> | null} */
  let commentsUi = null
  const authors = createAuthors({ doc: session.doc })
  const editor = new Editor({
    element: byId('editor'),
    editable: textEditable(),
    injectCSS: false, // its <style> tag would need 'unsafe-inline'; quire.css carries the rules
    extensions: [...buildExtensions({
      docId,
      canShare: mayShare,
      doc: session.doc,
      provider: session.provider,
      user: { name: identity.name, color: identity.color, username: identity.username ?? null },
      onLink: () => linkUi?.open(),
      onComment: () => commentsUi?.startComment(),
      onCommentClick: (threadId) => commentsUi?.clicked(threadId),
      figures: figures.extensions,
      suggestions: suggestionExtensions({
        mode,
        author: () => identity.id ?? null,
        unsupported: () => {
          if (Date.now() - unsupportedTold < 8000) return
          unsupportedTold = Date.now()
          uploadStatus.classList.remove('is-error')
          uploadStatus.textContent = 'In Suggesting mode you can add, delete and replace text; new paragraphs and block changes are not suggestions yet.'
          uploadStatus.hidden = false
          setTimeout(() => { uploadStatus.hidden = true }, 6000)
        },
      }),
      onToggleSuggesting: () => suggestUi?.toggle(),
      onDescribeImage: () => figureUi?.describe(),
    }), PrintNotes, authors.extension],
    editorProps: {
      attributes: {
        class: 'prose',
        'aria-label': 'Document text',
        'aria-multiline': 'true',
        role: 'textbox',
        spellcheck: 'true',
        tabindex: '0', // readers too reach the text with Tab and select with the keys (reader-keys.js)
      },
    },
  })
  performance.mark('quire:editor-ready')
  linkUi = createLinkUi(editor)
  figureUi = createFigureUi(editor, figures.insertFiles)

  const toolbar = mountToolbar(byId('toolbar'), editor, {
    openLink: () => linkUi?.open(),
    comment: () => commentsUi?.startComment(),
    canComment: mayComment,
    pickImage: () => figureUi?.pick(),
    describeImage: () => figureUi?.describe(),
  })
  const titleInput = /** @type {HTMLInputElement} */ (byId('doc-title'))
  // The title is one value (Y.Map "meta"): set before this copy has the server's, it could lose
  // to the title the document already has. So it waits for the first sync (or a local copy).
  const titleReady = () => session.everSynced || session.doc.getMap('meta').has('title')
  /** @type {(() => void) | null} what waits for the title to become editable (once) */
  let whenTitleEditable = null
  const lockTitle = () => {
    titleInput.readOnly = closed || !mayEdit() || !titleReady()
    if (titleInput.readOnly || !whenTitleEditable) return
    const run = whenTitleEditable
    whenTitleEditable = null
    requestAnimationFrame(() => { if (!titleInput.readOnly) run() })
  }
  lockTitle()
  session.provider.on('sync', lockTitle)
  session.doc.getMap('meta').observe(lockTitle)
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
    accounts: accountsRequired(),
  })
  mountFooter({ editor, counter: byId('word-count'), button: byId('shortcuts-button'), panel: byId('shortcuts-panel') })

  const panels = createPanels()
  /** @type {Promise<import('../shared/api.js').DocPerson[]> | null} */
  let people = null
  setMentionPeople(() => { people ??= listPeople(docId).catch(() => { people = null; return [] }); return people })
  commentsUi = mountComments({
    editor,
    doc: session.doc,
    // author of what this person writes: their id (what makes it theirs), and the name and
    // colour others see them under right now
    me: () => {
      const user = session.awareness.getLocalState()?.user
      const shown = user && typeof user.name === 'string' ? { name: user.name, color: user.color } : { name: identity.name, color: identity.color }
      return { id: identity.id ?? null, username: identity.username ?? null, ...shown }
    },
    root: byId('comments'),
    headerButton: byId('comments-button'),
    panels,
    canComment: mayComment,
    role: () => (closed ? null : role ?? remembered),
    accounts: accountsRequired(),
  })
  // a search hit led here: open its thread, or select its words, once the text is in
  revealFromAddress({
    editor,
    onSynced: (run) => {
      if (session.everSynced) { requestAnimationFrame(run); return }
      const once = (/** @type {boolean} */ synced) => {
        if (!synced) return
        session.provider.off('sync', once)
        requestAnimationFrame(run)
      }
      session.provider.on('sync', once)
    },
    showThread: (id) => commentsUi?.show(id) ?? false,
  })
  mountPalette()
  mountFind({ editor, slot: byId('find-slot') })
  caretOnBlankClicks({ editor, page: byId('main') })
  startInTitleIfNew({
    title: titleInput,
    // whichever comes last (the first sync, the role, the title) unlocks it: then, once
    whenEditable: (run) => {
      if (!titleInput.readOnly) { run(); return }
      whenTitleEditable = run
    },
  })
  mountOutline({ editor, panel: byId('outline-panel'), button: byId('outline-button'), panels })
  suggestUi = mountSuggestions({
    editor,
    docId,
    before: byId('share-button'),
    main: byId('main'),
    margin: byId('comments'),
    panels,
    me: () => identity.id ?? null,
    people: () => { people ??= listPeople(docId).catch(() => { people = null; return [] }); return people },
    onMode: () => {
      newUndoStep(editor) // a suggestion is never one undo step with direct edits before it
      if (!closed && editor.isEditable !== textEditable()) editor.setEditable(textEditable())
      toolbar.refresh()
    },
    onReply: () => commentsUi?.startComment(),
  })
  mountHistory({
    docId,
    doc: session.doc,
    editor,
    panels,
    button: byId('history-button'),
    panel: byId('history-panel'),
    preview: byId('version-preview'),
    canEdit: mayEdit,
    authors,
  })
  authors.mount({ button: /** @type {HTMLButtonElement} */ (byId('authors-button')), legend: byId('authors-legend') })
  const share = mountShare({ docId, panels, button: byId('share-button'), panel: byId('share-panel') })
  // Make a copy: anyone with an account who can read it (a link alone gives no one to own it)
  const copyButton = byId('copy-button')
  copyButton.hidden = accountsRequired() && !account
  copyButton.addEventListener('click', () => askCopy({ id: docId, title: titleInput.value }, copyButton))

  const printing = mountPrint({ editor, doc: session.doc, titleInput, text: byId('editor') })
  mountExportMenu({ button: byId('export-button'), menu: byId('export-menu'), withToken: withAccessToken, print: printing.print })

  const banner = byId('role-banner')
  let roleChangedBefore = false
  try {
    roleChangedBefore = sessionStorage.getItem(ROLE_CHANGED_KEY) === docId
    sessionStorage.removeItem(ROLE_CHANGED_KEY)
  } catch {
    // storage blocked
  }
  /** Let this person do what their role allows, and say so quietly. @param {import('./roles.js').Role} next */
  function applyRole (next) {
    role = next
    rememberRole(docId, next)
    document.body.dataset.role = next
    session.setRole(next)
    if (closed) return
    suggestUi?.setRole(next)
    if (editor.isEditable !== textEditable()) editor.setEditable(textEditable())
    lockTitle()
    share.setAvailable(mayShare() && accountsRequired(), // nobody to share with otherwise
      { owner: next === 'owner', editorsCanShare: sharing.editors })
    let text = roleBanner(next)
    if (roleChangedBefore && text) text = `The owner changed your access while you were writing, so your latest changes were not saved. ${text}`
    banner.replaceChildren(icon(next === 'viewer' ? 'eye' : 'message-square'), text)
    banner.hidden = !text
    toolbar.refresh()
    commentsUi?.refresh()
  }

  /** Ask the server who we are here (also after it refused a change, or on reconnecting). */
  function refreshRole () {
    return getDoc(docId)
      .then((doc) => {
        title.setFallback(doc.title)
        sharing.editors = Boolean(doc.editors_can_share)
        sharing.mine = Boolean(doc.can_share)
        applyRole(doc.role || 'owner')
      })
      .catch((err) => {
        if (err.status === 401) signedOut()
        else if (err.status === 404 && !session.closeFrame) closeDocument('This document does not exist, or it was not shared with you.')
        else if (err.status === 0 && role === null) {
          // the server is out of reach (offline reload): what this device knew, or let the
          // person write, as before accounts; the server checks every change anyway
          applyRole(remembered ?? 'editor')
        }
      })
  }

  const notice = byId('notice')
  /**
   * Stop taking input and say why. keepReading: the text stays readable (access was removed
   * while the page was open), so it is not dimmed.
   * @param {string} message
   * @param {{keepReading?: boolean, link?: {href: string, text: string}}} [options]
   */
  function closeDocument (message, { keepReading = false, link = account || !accountsRequired() ? { href: '/', text: 'Go to your documents' } : { href: loginUrl('/'), text: 'Sign in' } } = {}) {
    closed = true
    editor.setEditable(false)
    document.body.classList.add('is-closed')
    document.body.classList.toggle('is-readable', keepReading)
    titleInput.readOnly = true
    byId('name-card-slot').replaceChildren()
    banner.hidden = true
    share.setAvailable(false)
    copyButton.hidden = true
    toolbar.refresh()
    notice.replaceChildren(message, ' ', h('a', { href: link.href }, link.text))
    notice.hidden = false
  }

  /** The server does not know who this is (signed out, or the link stopped working). */
  function signedOut () {
    if (token && !account) {
      forgetLinkToken(docId)
      closeDocument('This link no longer works: it was revoked or it expired. Ask the owner for a new one.',
        { keepReading: session.everSynced, link: { href: loginUrl(location.pathname), text: 'Sign in' } })
    } else {
      location.assign(loginUrl())
    }
  }

  /** What a person whose access was just removed reads, in the words of their role. @param {string | null} had */
  function removedAccess (had) {
    const what = had === 'commenter' ? 'to comment' : had === 'editor' ? 'to edit' : null
    return what
      ? `You can still read what is here, but your access ${what} was removed by the owner.`
      : 'You can still read what is here, but your access was removed by the owner.'
  }

  /** The server closed the connection for good. @param {{code: number, reason: string}} frame */
  function onClosed (frame) {
    if (frame.code === 4401) {
      signedOut()
    } else if (frame.code === 4403) {
      if (token) forgetLinkToken(docId)
      if (session.everSynced) {
        closeDocument(removedAccess(role), { keepReading: true })
      } else {
        closeDocument(`${session.closedReason} Ask its owner to share it with you.`)
      }
    } else {
      closeDocument(session.closedReason || 'The server closed this document.', { keepReading: frame.code === 4413 })
    }
  }

  const showStatus = createSaveStatus(byId('save-state'))
  let closeHandled = false
  session.onState((state) => {
    showStatus(state)
    // the socket's reason is the more precise one: it replaces what a REST error said
    if (state.kind === 'closed' && !closeHandled && session.closeFrame) {
      closeHandled = true
      onClosed(session.closeFrame)
    }
  })
  session.onDenied(async () => {
    // The server refused a change: the owner lowered our role while we were writing. Stop now,
    // ask for the role, and if we may no longer write, start again from the server's copy: the
    // refused change sits in this device's copy and would be offered (and refused) forever.
    editor.setEditable(false)
    titleInput.readOnly = true
    const previous = role
    role = null
    await refreshRole()
    if (role === null) role = previous // the server is out of reach: try again later
    else if (!canEditAs(role)) {
      await session.forgetLocalCopy()
      try {
        sessionStorage.setItem(ROLE_CHANGED_KEY, docId)
      } catch {
        // the reloaded page just will not explain
      }
      location.reload()
    }
  })
  let syncs = 0
  session.provider.on('sync', (synced) => { if (synced && ++syncs > 1) refreshRole() }) // back after a drop
  // The owner may change our role at any time: look again when the person comes back to the tab.
  let lastLook = Date.now()
  window.addEventListener('focus', () => {
    if (closed || Date.now() - lastLook < 5000) return
    lastLook = Date.now()
    refreshRole()
  })

  // A commenter's text is not editable, so ProseMirror's keymap does not run: Ctrl/Cmd+Alt+M
  // still starts a comment on the selection.
  document.addEventListener('keydown', (event) => {
    if (editor.isEditable || !mayComment() || !(event.ctrlKey || event.metaKey) || !event.altKey || event.code !== 'KeyM') return
    if (/** @type {HTMLElement} */ (event.target).closest('input, textarea, select')) return
    event.preventDefault()
    catchUpSelection(editor.view) // the keys just moved the page's selection (reader-keys.js)
    commentsUi?.startComment()
  })

  refreshRole()

  session.start()
  keepPageForOffline()

  // Handy for debugging and for the end-to-end tests; not an API.
  Object.assign(window, { quire: { editor, session, role: () => role } })
}

main()
