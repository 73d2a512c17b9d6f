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
  try {
    response = await fetch(path, {
      ...init,
      headers: { Accept: 'application/json', ...(init.headers || {}) },
    })
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
