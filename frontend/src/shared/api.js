// The REST API (see the server's documents routes). Every call throws ApiError on failure.

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor (status, message) {
    super(message)
    this.status = status
  }
}

/** @type {string | null} */
let accessToken = null

/**
 * A share link's token: from now on every call carries it (`Authorization: Bearer`), on top of
 * the session cookie when there is one (the server takes the better of the two roles).
 * @param {string | null} token
 */
export function setAccessToken (token) {
  accessToken = token || null
}

/** `url` with the access token as `?token=`, for plain links (downloads) that cannot send headers. @param {string} url */
export function withAccessToken (url) {
  if (!accessToken) return url
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(accessToken)}`
}

/**
 * @param {string} path
 * @param {RequestInit} [init]
 */
async function request (path, init = {}) {
  let response
  /** @type {Record<string, string>} */
  const headers = { Accept: 'application/json', ...(/** @type {Record<string, string>} */ (init.headers) || {}) }
  // Signed-in pages carry a CSRF token that every state-changing request must echo.
  const csrf = init.method && init.method !== 'GET' ? document.querySelector('meta[name="csrf-token"]')?.getAttribute('content') : null
  if (csrf) headers['X-CSRF-Token'] = csrf
  if (accessToken) headers.Authorization = `Bearer ${accessToken}`
  try {
    response = await fetch(path, { ...init, headers })
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.')
  }
  if (response.status === 204) return null
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    throw new ApiError(response.status, problem(response.status, body) || response.statusText || `Request failed (${response.status})`)
  }
  return body
}

/**
 * The server's explanation: FastAPI's `detail`, a sentence or a list of validation errors.
 * @param {number} status @param {any} body
 */
function problem (status, body) {
  const detail = body?.detail
  if (typeof detail === 'string') return detail
  if (Array.isArray(detail) && detail.length && typeof detail[0]?.msg === 'string') return detail[0].msg
  if (status === 401) return 'Sign in to do this.'
  if (status === 403) return 'You do not have permission to do this.'
  return ''
}

/** @param {unknown} data */
function json (data) {
  return { body: JSON.stringify(data), headers: { 'Content-Type': 'application/json' } }
}

/**
 * @typedef {'viewer' | 'commenter' | 'editor' | 'owner'} Role
 * @typedef {{id: string, title: string, created_at: string, updated_at: string, online: number, role?: Role,
 *   owner_name?: string | null, editors_can_share?: boolean, can_share?: boolean}} Doc
 */

/**
 * @param {{q?: string, limit?: number, offset?: number, sort?: 'edited'|'title'|'created', whose?: 'all'|'mine'|'shared'}} [query]
 * @returns {Promise<{items: Doc[], total: number}>}
 */
export function listDocs ({ q = '', limit = 50, offset = 0, sort = 'edited', whose = 'all' } = {}) {
  const params = new URLSearchParams({ limit: String(limit), offset: String(offset), sort, whose })
  if (q) params.set('q', q)
  return request(`/api/docs?${params}`)
}

/**
 * @typedef {{doc_id: string, title: string, where: 'title'|'text'|'comment', thread_id: string|null,
 *   snippet: string, highlights: [number, number][], rank: number}} SearchHit
 * @param {string} q
 * @returns {Promise<{items: SearchHit[], total: number, query: string}>}
 */
export function searchDocs (q, { limit = 20, offset = 0 } = {}) {
  const params = new URLSearchParams({ q, limit: String(limit), offset: String(offset) })
  return request(`/api/search?${params}`)
}

/** @param {string} title @returns {Promise<Doc>} */
export function createDoc (title) {
  return request('/api/docs', { method: 'POST', ...json({ title }) })
}

/** @param {string} id @returns {Promise<Doc>} */
export function getDoc (id) {
  return request(`/api/docs/${encodeURIComponent(id)}`)
}

/** @param {string} id @param {string} title @returns {Promise<Doc>} */
export function renameDoc (id, title) {
  return request(`/api/docs/${encodeURIComponent(id)}`, { method: 'PATCH', ...json({ title }) })
}

/**
 * A copy you own of a document you can read (its text as it stands; comments only if asked).
 * @param {string} id @param {{title?: string, comments?: boolean}} [options] @returns {Promise<Doc>}
 */
export function copyDoc (id, options = {}) {
  return request(`/api/docs/${encodeURIComponent(id)}/copy`, { method: 'POST', ...json(options) })
}

/** Let the document's editors share it, or not (the owner only). @param {string} id @param {boolean} allowed @returns {Promise<Doc>} */
export function setEditorsCanShare (id, allowed) {
  return request(`/api/docs/${encodeURIComponent(id)}`, { method: 'PATCH', ...json({ editors_can_share: allowed }) })
}

/** @param {string} id */
export function deleteDoc (id) {
  return request(`/api/docs/${encodeURIComponent(id)}`, { method: 'DELETE' })
}

/** @param {File} file @returns {Promise<Doc>} */
export function importMarkdown (file) {
  const form = new FormData()
  form.append('file', file)
  return request('/api/docs/import', { method: 'POST', body: form })
}

/**
 * @typedef {{id: string | null, name: string, username: string | null}} VersionAuthor
 * @typedef {{id: number, created_at: string, name: string | null, authors: string[],
 *   people?: VersionAuthor[], size: number, kind: 'auto' | 'named' | 'restore'}} Version
 * `authors`: display names (two people may share one); `people`: who, told apart.
 * @typedef {{authors: Array<{id: string, name: string, username: string | null, characters: number}>,
 *   runs: Array<{text: string, author: string | null}>}} Attribution
 * @typedef {Version & {title: string | null, json: any, markdown: string, text: string,
 *   diff: Array<['=' | '+' | '-', string]>, attribution?: Attribution | null}} VersionDetail
 */

/** Newest first. @param {string} id @param {{limit?: number, offset?: number}} [page] @returns {Promise<{items: Version[], total: number}>} */
export function listVersions (id, { limit = 30, offset = 0 } = {}) {
  const params = new URLSearchParams({ limit: String(limit), offset: String(offset) })
  return request(`/api/docs/${encodeURIComponent(id)}/versions?${params}`)
}

/** Name the document's current state. @param {string} id @param {string} name @returns {Promise<Version>} */
export function nameVersion (id, name) {
  return request(`/api/docs/${encodeURIComponent(id)}/versions`, { method: 'POST', ...json({ name }) })
}

/** One version, with its diff from the current document. @param {string} id @param {number} versionId @returns {Promise<VersionDetail>} */
export function getVersion (id, versionId) {
  return request(`/api/docs/${encodeURIComponent(id)}/versions/${versionId}`)
}

/** @param {string} id @param {number} versionId @returns {Promise<{before: Version, restored: Version}>} */
export function restoreVersion (id, versionId) {
  return request(`/api/docs/${encodeURIComponent(id)}/versions/${versionId}/restore`, { method: 'POST' })
}

/**
 * @typedef {{id: string, kind: 'user' | 'link', role: Exclude<Role, 'owner'>, username: string | null,
 *   display_name: string | null, label: string | null, created_at: string, expires_at: string | null}} Share
 * @typedef {Share & {token: string, url: string}} CreatedLink
 */

/** Everyone the document is shared with: invited accounts and share links (whoever may share). @param {string} id @returns {Promise<Share[]>} */
export function listShares (id) {
  return request(`/api/docs/${encodeURIComponent(id)}/shares`)
}

/**
 * Give an account a role on the document.
 * @param {string} id @param {{username: string, role: string, expires_in_days?: number | null}} invite
 * @returns {Promise<Share>}
 */
export function inviteToDoc (id, invite) {
  return request(`/api/docs/${encodeURIComponent(id)}/shares`, { method: 'POST', ...json(invite) })
}

/**
 * A new share link; its token is in the answer only (the server keeps a hash).
 * @param {string} id @param {{role: string, expires_in_days?: number | null, label?: string | null}} link
 * @returns {Promise<CreatedLink>}
 */
export function createShareLink (id, link) {
  return request(`/api/docs/${encodeURIComponent(id)}/links`, { method: 'POST', ...json(link) })
}

/** Take back an invitation or a link: whoever used it loses access at once. @param {string} id @param {string} shareId */
export function revokeShare (id, shareId) {
  return request(`/api/docs/${encodeURIComponent(id)}/shares/${encodeURIComponent(shareId)}`, { method: 'DELETE' })
}

/**
 * @typedef {{doc_id: string, doc_title: string, thread_id: string, quote: string, assigned_by: string, url: string}} AssignedThread
 * @returns {Promise<AssignedThread[]>} open comment threads assigned to you, in documents you can read
 */
export function listAssigned () {
  return request('/api/assigned')
}

/**
 * Assign a comment thread to someone who can read the document (null: to no one).
 * @param {string} docId @param {string} threadId @param {string | null} username
 */
export function assignThread (docId, threadId, username) {
  return request(`/api/docs/${encodeURIComponent(docId)}/comments/${encodeURIComponent(threadId)}/assignee`,
    { method: 'PUT', ...json({ username }) })
}

/**
 * @typedef {{id: string, username: string, display_name: string, role: string}} DocPerson
 * @param {string} docId @returns {Promise<DocPerson[]>} the accounts who can read the document
 */
export function listPeople (docId) {
  return request(`/api/docs/${encodeURIComponent(docId)}/people`)
}

/**
 * @typedef {{id: number, kind: 'mention'|'reply'|'assigned'|'share', doc_id: string, doc_title: string,
 *   thread_id: string|null, actor: {id: string|null, name: string}, quote: string, excerpt: string,
 *   url: string, created_at: string, read: boolean}} Notice
 * @returns {Promise<{items: Notice[], unread: number}>} your notifications, newest first
 */
export function listNotifications () {
  return request('/api/notifications?limit=30')
}

/** @param {number[] | 'all'} which @returns {Promise<{unread: number}>} */
export function markNotificationsRead (which) {
  return request('/api/notifications/read', { method: 'POST', ...json(which === 'all' ? { all: true } : { ids: which }) })
}

/**
 * Upload a picture for a document (editors): the server cleans it and answers its URL.
 * @param {string} docId @param {Blob} file
 * @returns {Promise<{url: string, sha256: string, mime: string, width: number, height: number, size: number}>}
 */
export function uploadImage (docId, file) {
  const form = new FormData()
  form.append('file', file, /** @type {File} */ (file).name || 'picture')
  return request(`/api/docs/${encodeURIComponent(docId)}/images`, { method: 'POST', body: form })
}

/**
 * A document's pending suggestions, with their authors' names (readers too).
 * @param {string} docId
 * @returns {Promise<Array<{id: string, kind: string, author: string | null, author_name: string | null}>>}
 */
export function listSuggestions (docId) {
  return request(`/api/docs/${encodeURIComponent(docId)}/suggestions`)
}
