// Who may change which comment (crdt/COMMENTS.md, "Ownership"). The server enforces these rules
// on every update; the page only offers what they allow. People are compared by `id` (the
// account id, or "link:<share id>" for a share-link visitor), never by display name: two
// accounts may have the same name. Data written before ids existed belongs to nobody.

/**
 * @typedef {import('./store.js').Person} Person
 * @typedef {{me: Person, role: string | null, accounts: boolean}} Viewer
 * `role`: the viewer's role on the document; `accounts`: false when the server runs without
 * accounts (everyone is the owner and nothing is enforced).
 */

/** The same person: equal, non-empty ids. @param {Person | null} a @param {Person | null} b */
export function samePerson (a, b) {
  return !!a?.id && !!b?.id && a.id === b.id
}

/**
 * Without accounts there are no ids: a person's own comments are the ones under their name
 * (nothing is enforced then; this only keeps Edit off other people's messages).
 * @param {Person | null} author @param {Viewer} viewer
 */
function authored (author, viewer) {
  if (viewer.accounts) return samePerson(author, viewer.me)
  return samePerson(author, viewer.me) || (!!author && !author.id && author.name === viewer.me.name)
}

/** @param {Viewer} viewer */
const isOwner = (viewer) => !viewer.accounts || viewer.role === 'owner'

/** Change a message's text: its author only (not even the owner). @param {Person | null} author @param {Viewer} viewer */
export const mayEdit = (author, viewer) => authored(author, viewer)

/** Delete a message (tombstone): its author or the owner. @param {Person | null} author @param {Viewer} viewer */
export const mayDeleteMessage = (author, viewer) => isOwner(viewer) || authored(author, viewer)

/**
 * Resolve or reopen: the thread's author, its assignee ("mark done"), an editor or the owner.
 * @param {Person | null} threadAuthor @param {Viewer} viewer @param {Person | null} [assignee]
 */
export const mayResolve = (threadAuthor, viewer, assignee = null) =>
  isOwner(viewer) || viewer.role === 'editor' || authored(threadAuthor, viewer) || samePerson(assignee, viewer.me)

/** Assign to someone: the thread's author, an editor or the owner. @param {Person | null} threadAuthor @param {Viewer} viewer */
export const mayAssign = (threadAuthor, viewer) =>
  viewer.accounts && (isOwner(viewer) || viewer.role === 'editor' || authored(threadAuthor, viewer))

/** Delete a whole thread and its highlight: its author or the owner. @param {Person | null} threadAuthor @param {Viewer} viewer */
export const mayDeleteThread = (threadAuthor, viewer) => isOwner(viewer) || authored(threadAuthor, viewer)
