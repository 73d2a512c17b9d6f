// The REST API (see the server's documents routes). Every call throws ApiError on failure.

export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor (status, message) {
    super(message)
    this.status = status
  }
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
  try {
    response = await fetch(path, { ...init, headers })
  } catch {
    throw new ApiError(0, 'Cannot reach the server. Check your connection and try again.')
  }
  if (response.status === 204) return null
  const body = await response.json().catch(() => null)
  if (!response.ok) {
    const detail = body && typeof body.detail === 'string' ? body.detail : response.statusText
    throw new ApiError(response.status, detail || `Request failed (${response.status})`)
  }
  return body
}

/** @param {unknown} data */
function json (data) {
  return { body: JSON.stringify(data), headers: { 'Content-Type': 'application/json' } }
}

/**
 * @typedef {{id: string, title: string, created_at: string, updated_at: string, online: number}} Doc
 */

/** @param {{q?: string, limit?: number, offset?: number}} [query] @returns {Promise<{items: Doc[], total: number}>} */
export function listDocs ({ q = '', limit = 50, offset = 0 } = {}) {
  const params = new URLSearchParams({ limit: String(limit), offset: String(offset) })
  if (q) params.set('q', q)
  return request(`/api/docs?${params}`)
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
 * @typedef {{id: number, created_at: string, name: string | null, authors: string[], size: number,
 *   kind: 'auto' | 'named' | 'restore'}} Version
 * @typedef {Version & {title: string | null, json: any, markdown: string, text: string,
 *   diff: Array<['=' | '+' | '-', string]>}} VersionDetail
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
