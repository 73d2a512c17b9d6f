// Who is using this page: the signed-in account (from the page's <meta name="quire-user">), or a
// share link's token for one document, and what to do when neither is enough.

/** @typedef {{name: string, username: string}} Account */

/** The signed-in account, or null (signed out, a share-link visitor, or accounts switched off). @returns {Account | null} */
export function signedInAccount () {
  const meta = document.querySelector('meta[name="quire-user"]')
  const name = meta?.getAttribute('content')?.trim()
  if (!meta || !name) return null
  return { name, username: /** @type {HTMLElement} */ (meta).dataset.username || '' }
}

/**
 * @typedef {{id: string | null, name: string | null, username: string | null}} PagePerson
 * Who this page's viewer is in comment data (crdt/COMMENTS.md): an account's id, display name
 * and username, or a share-link visitor's "link:<share id>" (their name is their own choice).
 */

/**
 * This viewer's person, as the server rendered it into the page (<meta name="quire-person">),
 * or null (accounts off, or a reloaded share-link page: see linkPerson).
 * @returns {PagePerson | null}
 */
export function pagePerson () {
  const meta = /** @type {HTMLMetaElement | null} */ (document.querySelector('meta[name="quire-person"]'))
  const id = meta?.content.trim()
  if (!meta || !id) return null
  return { id, name: meta.dataset.name || null, username: meta.dataset.username || null }
}

const linkPersonKey = (/** @type {string} */ docId) => `quire.linkPerson:${docId}`

/**
 * A share-link visitor's person id for `docId`. The page that arrived with the link's token
 * knows it (the server read the token); a reload arrives without the token in the address
 * (captureLinkToken moved it), so the id is kept beside the token in this tab's sessionStorage.
 * @param {string} docId
 * @param {PagePerson | null} fromPage
 * @returns {string | null}
 */
export function linkPerson (docId, fromPage) {
  try {
    if (fromPage?.id?.startsWith('link:')) {
      sessionStorage.setItem(linkPersonKey(docId), fromPage.id)
      return fromPage.id
    }
    return sessionStorage.getItem(linkPersonKey(docId))
  } catch {
    return fromPage?.id?.startsWith('link:') ? fromPage.id : null
  }
}

/** True when this server has accounts on (the page says so in <body data-auth>). */
export function accountsRequired () {
  return document.body.dataset.auth === 'required'
}

const tokenKey = (/** @type {string} */ docId) => `quire.link:${docId}`

/**
 * The share-link token for `docId`: taken from the address bar once (`?token=`), kept in this
 * tab's sessionStorage, and removed from the address at once with history.replaceState, so it
 * does not leak through screenshots, copied addresses or the referrer of the next page.
 * @param {string} docId
 * @returns {string | null}
 */
export function captureLinkToken (docId) {
  const url = new URL(location.href)
  const fromUrl = url.searchParams.get('token')?.trim() || ''
  if (url.searchParams.has('token')) {
    url.searchParams.delete('token')
    history.replaceState(history.state, '', `${url.pathname}${url.search}${url.hash}`)
  }
  if (fromUrl && fromUrl.length <= 400) {
    try {
      sessionStorage.setItem(tokenKey(docId), fromUrl)
    } catch {
      // storage blocked: the token lasts for this page only
    }
    return fromUrl
  }
  try {
    return sessionStorage.getItem(tokenKey(docId))
  } catch {
    return null
  }
}

/** The token stopped working (revoked, expired): do not send it again. @param {string} docId */
export function forgetLinkToken (docId) {
  try {
    sessionStorage.removeItem(tokenKey(docId))
    sessionStorage.removeItem(linkPersonKey(docId))
  } catch {
    // nothing stored
  }
}

/** The sign-in page, coming back to `next` (this page by default) afterwards. @param {string} [next] */
export function loginUrl (next = location.pathname + location.search) {
  return `/login?next=${encodeURIComponent(next)}`
}

/**
 * Sign out through the header's form, first forgetting what this browser kept of documents
 * (their offline copies in IndexedDB and the cached pages): whoever signs in next on this
 * device must not find them. Never waits more than a moment.
 */
export function wireSignOut () {
  const form = /** @type {HTMLFormElement | null} */ (document.querySelector('form.account-out'))
  if (!form) return
  let leaving = false
  form.addEventListener('submit', (event) => {
    if (leaving) return
    event.preventDefault()
    leaving = true
    const timeout = new Promise((resolve) => setTimeout(resolve, 1500))
    Promise.race([forgetLocalCopies(), timeout]).finally(() => form.submit())
  })
}

async function forgetLocalCopies () {
  const jobs = []
  try {
    localStorage.removeItem('quire.user')
    localStorage.removeItem('quire.roles')
  } catch {
    // blocked storage: nothing was kept
  }
  if (typeof indexedDB !== 'undefined' && typeof indexedDB.databases === 'function') {
    for (const { name } of await indexedDB.databases()) {
      if (!name || !name.startsWith('quire:')) continue
      jobs.push(new Promise((resolve) => {
        const request = indexedDB.deleteDatabase(name)
        request.onsuccess = request.onerror = request.onblocked = () => resolve(undefined)
      }))
    }
  }
  if (typeof caches !== 'undefined') jobs.push(caches.keys().then((names) => Promise.all(names.map((n) => caches.delete(n)))))
  await Promise.allSettled(jobs)
}
