// Inline comments: the composer, the highlights, and the threads in the right-hand margin
// (a drawer on narrow screens). The data lives in the Y.Doc (store.js, contract in
// crdt/COMMENTS.md); the passages carry the `comment` mark; anchors.js draws the highlights.
import { TextSelection } from '@tiptap/pm/state'
import { formatKeys, h, icon } from '../../shared/dom.js'
import { sharedNames } from '../../shared/identity.js'
import { anchorState, anchorsKey, setAnchors, threadAt } from './anchors.js'
import { createComposer } from './composer.js'
import { stackCards } from './layout.js'
import { mentionPeople } from './mention-picker.js'
import { mayAssign, mayDeleteMessage, mayDeleteThread, mayEdit, mayResolve, samePerson } from './ownership.js'
import * as store from './store.js'
import { ThreadCard } from './thread-card.js'

const CARD_GAP = 10
const NAVIGATION_KEYS = new Set(['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'PageUp', 'PageDown'])

/**
 * @typedef {import('./store.js').Thread} Thread
 * @typedef {import('./store.js').Person} Person
 */

/**
 * @param {{
 *   editor: import('@tiptap/core').Editor,
 *   doc: import('yjs').Doc,
 *   me: () => Person,
 *   root: HTMLElement,
 *   headerButton: HTMLElement,
 *   panels: ReturnType<typeof import('../panels.js').createPanels>,
 *   canComment?: () => boolean,
 *   role?: () => string | null,
 *   accounts?: boolean,
 * }} options
 * me: this person as written into comment data ({id, name, username, color}: the id decides
 * what is theirs). canComment: whether this person may write comments; a commenter may while
 * the text itself is read-only for them (the server accepts comment marks and the comments map
 * from commenters). role: their role on the document (null until known); accounts: false when
 * the server runs without accounts (everyone is the owner).
 */
export function mountComments ({ editor, doc, me, root, headerButton, panels, canComment = () => editor.isEditable, role = () => null, accounts = true }) {
  const view = editor.view
  /** @type {'open' | 'resolved' | 'mine'} open threads, resolved ones, open ones assigned to me */
  let filter = 'open'
  /** @type {string | null} */
  let active = null
  /** @type {Map<string, Thread>} */
  let threads = new Map()
  /** @type {Map<string, ThreadCard>} */
  const cards = new Map()
  let readFrame = 0
  let layoutFrame = 0
  let dataChanged = true // the comments map changed since it was last read
  let lastOrder = '' // the shown threads, as last rendered (see order())
  const resizes = new ResizeObserver(() => scheduleLayout())
  /** @type {Array<() => void>} what `destroy` undoes */
  const teardown = []
  /** @param {EventTarget} target @param {string} type @param {(event: any) => void} listener */
  const listen = (target, type, listener) => {
    target.addEventListener(type, listener)
    teardown.push(() => target.removeEventListener(type, listener))
  }

  // ---- the margin's fixed parts ----
  const filterButtons = {
    open: h('button', { type: 'button', class: 'filter-btn', 'data-filter': 'open', 'aria-pressed': 'true' }, 'Open', h('span', { class: 'filter-count' })),
    resolved: h('button', { type: 'button', class: 'filter-btn', 'data-filter': 'resolved', 'aria-pressed': 'false' }, 'Resolved', h('span', { class: 'filter-count' })),
    mine: h('button', { type: 'button', class: 'filter-btn', 'data-filter': 'mine', 'aria-pressed': 'false' }, 'Assigned to me', h('span', { class: 'filter-count' })),
  }
  const closeButton = h('button', { type: 'button', class: 'btn-icon btn-small', 'aria-label': 'Close comments', 'data-tip': 'Close' }, icon('x'))
  const hint = h('p', { class: 'comments-hint', role: 'status', 'aria-live': 'polite' })
  const list = h('div', { class: 'comments-list' })
  const empty = h('p', { class: 'comments-empty' })
  root.replaceChildren(
    h('div', { class: 'comments-head' },
      h('h2', { id: 'comments-title' }, 'Comments'),
      h('div', { class: 'comments-filter', role: 'group', 'aria-label': 'Show comments' }, filterButtons.open, filterButtons.resolved, filterButtons.mine),
      closeButton),
    hint, empty, list)
  const headerCount = h('span', { class: 'count-badge', 'aria-hidden': 'true', hidden: true })
  headerButton.append(headerCount)

  for (const button of Object.values(filterButtons)) {
    listen(button, 'click', () => setFilter(/** @type {'open'|'resolved'|'mine'} */ (button.dataset.filter)))
  }
  // Escape: first leaves the active thread; then closes the margin where it covers the text
  listen(root, 'keydown', (/** @type {KeyboardEvent} */ event) => {
    if (event.key !== 'Escape' || event.defaultPrevented) return
    if (active) {
      setActive(null)
      view.focus()
    } else if (!panels.wide) {
      panels.close('comments')
      headerButton.focus()
    }
  })

  // ---- who may do what ----
  const editable = canComment
  let wasEditable = editable()
  /** @returns {import('./ownership.js').Viewer} */
  const viewer = () => ({ me: me(), role: role(), accounts })

  /** @type {import('./thread-card.js').ThreadActions} */
  const actions = {
    reply: (id, body) => store.addReply(doc, id, { author: me(), body }),
    edit: (id, messageId, body) => store.editMessage(doc, id, messageId, body),
    remove: (id, messageId) => removeMessage(id, messageId),
    resolve: (id) => {
      store.resolveThread(doc, id, me())
      if (active === id) setActive(null)
      say('Comment resolved. It is listed under “Resolved”.')
    },
    reopen: (id) => {
      store.reopenThread(doc, id)
      say('Comment reopened.')
    },
    activate: (id) => setActive(id, { from: 'card' }),
    assign: (id, person) => {
      store.assignThread(doc, id, person)
      say(person ? `Assigned to ${person.name}. They are told, and can mark it done.` : 'Assigned to no one.')
    },
    people: () => mentionPeople(),
    isMe: (person) => samePerson(person, me()),
    mayEdit: (author) => mayEdit(author, viewer()),
    mayDelete: (author) => mayDeleteMessage(author, viewer()),
    mayResolve: (thread) => mayResolve(thread.author, viewer(), thread.assignee),
    mayAssign: (thread) => mayAssign(thread.author, viewer()),
  }

  /** @param {string} id @param {string} messageId */
  function removeMessage (id, messageId) {
    const thread = threads.get(id)
    if (!thread) return
    const others = store.liveMessages(thread).filter((m) => m.id !== messageId)
    if (thread.messages[0]?.id === messageId && others.length === 0 && mayDeleteThread(thread.author, viewer())) {
      // The opening comment with no replies left: the thread goes, with its highlight (only
      // its author or the owner may remove a thread; anyone else leaves a tombstone). The marks
      // go first, while the thread still says whose it is: the server judges a commenter's
      // mark removal by the thread's author.
      removeMarks(id)
      store.deleteThreadData(doc, id)
      if (active === id) setActive(null)
      say('Comment deleted.')
    } else {
      store.deleteMessage(doc, id, messageId)
    }
  }

  /** @param {string} id */
  function removeMarks (id) {
    const ranges = anchorState(view).ranges.get(id)
    if (!ranges) return
    const mark = view.state.schema.marks.comment.create({ threadId: id })
    const tr = view.state.tr
    for (const { from, to } of ranges) tr.removeMark(from, to, mark) // this thread's mark only
    view.dispatch(tr.setMeta('addToHistory', false))
  }

  let hintTimer = 0
  /** @param {string} message */
  function say (message) {
    clearTimeout(hintTimer)
    hint.textContent = message
    hintTimer = window.setTimeout(() => { hint.textContent = '' }, 6000)
  }

  // ---- new comments ----
  const composer = createComposer(editor, {
    submit: (body) => createFromPending(body),
    cancel: () => {
      if (anchorState(view).pending) setAnchors(view, { pending: null })
    },
  })

  /** Open the composer for the current selection (toolbar button, Ctrl/Cmd+Alt+M). */
  function startComment () {
    const { selection } = editor.state
    if (!editable()) return
    if (selection.empty || !(selection instanceof TextSelection) || !editor.state.doc.textBetween(selection.from, selection.to).trim()) {
      panels.open('comments')
      setFilter('open')
      say(`Select the text you want to comment on, then press Comment (${formatKeys('Mod-Alt-m')}).`)
      return
    }
    setAnchors(view, { pending: { from: selection.from, to: selection.to } })
    composer.open(selection.to)
  }

  /** @param {string} body */
  function createFromPending (body) {
    const problem = store.bodyProblem(body)
    if (problem) throw new Error(problem)
    const state = view.state
    const pending = anchorState(view).pending
    if (!pending) throw new Error('The text you selected has been deleted. Select some text again.')
    const id = store.newId()
    const mark = state.schema.marks.comment.create({ threadId: id })
    const tr = state.tr.addMark(pending.from, pending.to, mark)
    let marked = false
    tr.doc.nodesBetween(pending.from, pending.to, (node) => {
      if (node.isText && mark.isInSet(node.marks)) marked = true
    })
    if (!marked) throw new Error('This text cannot hold a comment (code blocks cannot). Select other text.')
    const quote = state.doc.textBetween(pending.from, pending.to, '\n', '\n')
    // The thread's data first (one Yjs transaction), then its mark through the editor in the
    // same tick, outside any Yjs transaction, kept out of undo (crdt/COMMENTS.md, step 2).
    store.createThread(doc, { id, author: me(), body, quote })
    const visible = new Set(anchorState(view).visible).add(id)
    view.dispatch(tr.setMeta('addToHistory', false).setMeta(anchorsKey, { pending: null, active: id, visible }))
    active = id
    panels.open('comments')
    setFilter('open')
    refresh()
    view.focus()
  }

  // ---- active thread: the highlight and the card light up together ----
  /**
   * @param {string | null} id
   * @param {{from?: 'editor' | 'card' | 'caret'}} [how]
   */
  function setActive (id, { from = 'editor' } = {}) {
    if (id === active) {
      if (id && from === 'editor') revealCard(id)
      return
    }
    active = id
    setAnchors(view, { active: id })
    if (id) {
      const thread = threads.get(id)
      if (thread && !listed(thread)) setFilter(thread.resolved ? 'resolved' : 'open')
      if (from === 'editor') panels.open('comments')
    }
    refresh()
    if (id && (from === 'editor' || (from === 'caret' && panels.isOpen('comments')))) revealCard(id)
    if (id && from === 'card') revealPassage(id)
  }

  /** @param {string} id */
  function revealCard (id) {
    const card = cards.get(id)
    if (!card) return
    requestAnimationFrame(() => card.el.scrollIntoView({ block: 'nearest' }))
  }

  /** @param {string} id */
  function revealPassage (id) {
    const range = anchorState(view).ranges.get(id)?.[0]
    if (!range) return
    const at = view.coordsAtPos(range.from)
    const top = 110 // below the sticky header and toolbar
    if (at.top < top || at.bottom > window.innerHeight - 48) {
      window.scrollBy({ top: at.top - window.innerHeight / 3, behavior: 'smooth' })
    }
  }

  /** @param {'open' | 'resolved' | 'mine'} value */
  function setFilter (value) {
    if (filter === value) return
    filter = value
    for (const [name, button] of Object.entries(filterButtons)) button.setAttribute('aria-pressed', String(value === name))
    refresh()
  }

  /** Whether `thread` is listed under the current filter. @param {Thread} thread */
  function listed (thread) {
    if (filter === 'resolved') return thread.resolved
    if (filter === 'mine') return !thread.resolved && samePerson(thread.assignee, me())
    return !thread.resolved
  }

  // ---- rendering ----
  const aligned = () => panels.wide && filter !== 'resolved' && panels.isOpen('comments')

  /** @returns {{shown: Thread[], detached: Set<string>}} threads of the current filter, in text order */
  function shownThreads () {
    const ranges = anchorState(view).ranges
    const detached = new Set()
    const anchored = []
    const loose = []
    for (const thread of threads.values()) {
      if (!listed(thread)) continue
      const first = ranges.get(thread.id)?.[0]
      if (first) anchored.push({ thread, at: first.from })
      else {
        detached.add(thread.id)
        loose.push(thread)
      }
    }
    anchored.sort((a, b) => a.at - b.at)
    loose.sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0))
    return { shown: [...anchored.map((a) => a.thread), ...loose], detached }
  }

  /** Which threads show, in which order, which are detached: a change needs a refresh. */
  function order () {
    const { shown, detached } = shownThreads()
    return shown.map((t) => (detached.has(t.id) ? `~${t.id}` : t.id)).join(' ')
  }

  function refresh () {
    const { shown, detached } = shownThreads()
    lastOrder = shown.map((t) => (detached.has(t.id) ? `~${t.id}` : t.id)).join(' ')
    const keep = new Set(shown.map((t) => t.id))
    for (const [id, card] of cards) {
      if (!keep.has(id)) {
        resizes.unobserve(card.el)
        card.el.remove()
        cards.delete(id)
      }
    }
    const isAligned = aligned()
    list.classList.toggle('is-aligned', isAligned)
    const shared = sharedNames([...threads.values()].flatMap((t) => [t.author, t.resolvedBy, ...t.messages.map((m) => m.author)]))
    let previous = null
    for (const thread of shown) {
      const cardView = { active: thread.id === active, detached: detached.has(thread.id), showQuote: !isAligned, editable: editable(), shared }
      let card = cards.get(thread.id)
      if (card) card.update(thread, cardView)
      else {
        card = new ThreadCard(thread, actions)
        card.update(thread, cardView)
        cards.set(thread.id, card)
        resizes.observe(card.el)
      }
      const expected = previous ? previous.nextSibling : list.firstChild
      if (expected !== card.el) list.insertBefore(card.el, expected)
      previous = card.el
    }

    let open = 0
    let resolved = 0
    let mine = 0
    for (const thread of threads.values()) {
      if (thread.resolved) resolved++
      else {
        open++
        if (samePerson(thread.assignee, me())) mine++
      }
    }
    filterButtons.open.querySelector('.filter-count').textContent = open ? String(open) : ''
    filterButtons.resolved.querySelector('.filter-count').textContent = resolved ? String(resolved) : ''
    filterButtons.mine.querySelector('.filter-count').textContent = mine ? String(mine) : ''
    for (const badge of [headerCount, toolbarBadge()]) {
      if (!badge) continue
      badge.textContent = String(open)
      badge.hidden = open === 0
    }
    headerButton.setAttribute('aria-label', open ? `Comments (${open} open)` : 'Comments')
    const toolbarButton = document.querySelector('[data-tool="comment"]')
    toolbarButton?.setAttribute('aria-label', open ? `Comment (${open} open)` : 'Comment')

    empty.hidden = shown.length > 0
    empty.textContent = filter === 'mine'
      ? 'No open comments are assigned to you.'
      : filter !== 'open'
      ? 'No resolved comments.'
      : editable()
        ? `No open comments. Select some text and press Comment (${formatKeys('Mod-Alt-m')}) to start one.`
        : 'No open comments.'
    scheduleLayout()
  }

  const toolbarBadge = () => document.querySelector('[data-tool="comment"] .tb-badge')

  function scheduleLayout () {
    if (!layoutFrame) layoutFrame = requestAnimationFrame(layout)
  }

  function layout () {
    layoutFrame = 0
    if (!aligned()) {
      for (const card of cards.values()) card.el.style.top = ''
      list.style.height = ''
      return
    }
    const ranges = anchorState(view).ranges
    const base = list.getBoundingClientRect().top
    /** @type {Array<{card: ThreadCard, desired: number, height: number}>} */
    const placed = []
    /** @type {ThreadCard[]} */
    const loose = []
    for (const card of cards.values()) {
      const first = ranges.get(card.thread.id)?.[0]
      if (!first) {
        loose.push(card)
        continue
      }
      let desired
      try {
        desired = view.coordsAtPos(first.from).top - base
      } catch {
        desired = 0 // the position is gone mid-update; the next frame places it
      }
      placed.push({ card, desired, height: card.el.offsetHeight })
    }
    placed.sort((a, b) => a.desired - b.desired)
    const tops = stackCards(placed, { active: placed.findIndex((p) => p.card.thread.id === active), gap: CARD_GAP, min: 0 })
    let bottom = 0
    placed.forEach((p, i) => {
      p.card.el.style.top = `${Math.round(tops[i])}px`
      bottom = Math.max(bottom, tops[i] + p.height)
    })
    for (const card of loose) {
      const top = bottom ? bottom + CARD_GAP * 2 : 0
      card.el.style.top = `${Math.round(top)}px`
      bottom = top + card.el.offsetHeight
    }
    list.style.height = `${Math.ceil(bottom)}px`
  }

  resizes.observe(view.dom)

  // ---- data in, highlights out ----
  function sync () {
    readFrame = 0
    if (dataChanged) {
      dataChanged = false
      threads = store.readThreads(doc)
      const visible = new Set([...threads.values()].filter((t) => !t.resolved).map((t) => t.id))
      // the active thread was deleted, or resolved/reopened elsewhere: it left this list
      const current = active ? threads.get(active) : null
      if (active && (!current || !listed(current))) active = null
      const anchors = anchorState(view)
      const same = anchors.visible.size === visible.size && [...visible].every((id) => anchors.visible.has(id))
      if (!same || anchors.active !== active) setAnchors(view, { visible, active })
      refresh()
    } else if (order() !== lastOrder) {
      refresh() // a passage appeared, moved past another or vanished (detached)
    } else {
      scheduleLayout()
    }
  }
  const scheduleSync = () => { if (!readFrame) readFrame = requestAnimationFrame(sync) }
  const commentsMap = store.commentsMap(doc)
  const onData = () => {
    dataChanged = true
    scheduleSync()
  }
  commentsMap.observeDeep(onData)
  teardown.push(() => commentsMap.unobserveDeep(onData))
  /** @param {{transaction: import('@tiptap/pm/state').Transaction}} event */
  const onTransaction = ({ transaction }) => {
    if (transaction.docChanged) scheduleSync()
  }
  const onUpdate = () => {
    // setEditable() emits an update too: show or hide the reply boxes and buttons
    if (editable() !== wasEditable) {
      wasEditable = editable()
      refresh()
    }
  }
  editor.on('transaction', onTransaction)
  editor.on('update', onUpdate)
  teardown.push(() => { editor.off('transaction', onTransaction); editor.off('update', onUpdate) })
  // Moving the caret into a highlighted passage with the keyboard shows its thread, as a click
  // does (on a narrow screen without opening the drawer over the text).
  listen(view.dom, 'keyup', (/** @type {KeyboardEvent} */ event) => {
    if (!NAVIGATION_KEYS.has(event.key)) return
    const { selection } = view.state
    if (!selection.empty) return
    const id = threadAt(anchorState(view), selection.from)
    if (id && id !== active) setActive(id, { from: 'caret' })
  })
  listen(window, 'resize', scheduleLayout)
  teardown.push(panels.wire('comments', { button: headerButton, panel: root, closeButton, escape: false, onChange: () => refresh() }))
  const clock = setInterval(() => { for (const card of cards.values()) card.refreshTimes() }, 60_000)
  teardown.push(() => {
    clearInterval(clock)
    clearTimeout(hintTimer)
    cancelAnimationFrame(readFrame)
    cancelAnimationFrame(layoutFrame)
    resizes.disconnect()
  })

  sync()
  return {
    startComment,
    /** Show what this person may do now (their role became known or changed). */
    refresh,
    /** Open thread `id` and bring its passage into view (a search hit led here). @param {string} id */
    show (id) {
      dataChanged = true
      sync() // the comments may have arrived this instant (the first sync)
      if (!threads.has(id)) return false
      setActive(id, { from: 'editor' })
      revealPassage(id)
      return true
    },
    /** A click in the text, on the passage of `id` (or on none). @param {string | null} id */
    clicked (id) {
      if (id) setActive(id, { from: 'editor' })
      else if (active) setActive(null)
    },
    /** Stop listening to the document, the editor and the page, and empty the margin. */
    destroy () {
      for (const undo of teardown.splice(0).reverse()) undo()
      root.replaceChildren()
      headerCount.remove()
    },
  }
}
