// Quire service worker: lets a page that was open on this device load again while the server
// is unreachable. The document itself comes from IndexedDB (y-indexeddb); this only keeps the
// page shells (/ and /d/{id}) and the static files.
//
// Pages: network first, so nothing stale is shown while the server answers; only when the
// request fails does the last good copy answer. Pages are kept under their path alone: the
// query (a share link's ?token=, a search) never reaches the cache. Static files whose URL carries a version
// (?v=...) are immutable: stored copy first. The API and the WebSocket are never touched.
const CACHE = 'quire-offline-v1'

self.addEventListener('install', () => self.skipWaiting())

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) if (name !== CACHE) await caches.delete(name)
    // the browser starts a page request while this worker boots, instead of after
    if (self.registration.navigationPreload) await self.registration.navigationPreload.enable()
    await self.clients.claim()
  })())
})

/** @param {URL} url */
function isShell (url) {
  return url.pathname === '/' || url.pathname.startsWith('/d/')
}

self.addEventListener('fetch', (event) => {
  const request = event.request
  if (request.method !== 'GET') return
  const url = new URL(request.url)
  if (url.origin !== self.location.origin) return
  const isStatic = url.pathname.startsWith('/static/')
  const isPage = request.mode === 'navigate' && isShell(url)
  if (!isStatic && !isPage) return
  if (isStatic && url.searchParams.has('v')) event.respondWith(versionedFile(request, url))
  else event.respondWith(networkFirst(request, url, isPage, isPage ? event.preloadResponse : undefined))
})

/**
 * Files whose URL carries their version (?v=mtime, see pages.py) never change under that URL:
 * serve the stored copy without asking the network.
 * @param {Request} request @param {URL} url
 */
async function versionedFile (request, url) {
  const cache = await caches.open(CACHE)
  const cached = await cache.match(request)
  if (cached) return cached
  const response = await fetch(request)
  if (response.ok) await remember(cache, request, url, response.clone())
  return response
}

/**
 * @param {Request} request @param {URL} url @param {boolean} isPage
 * @param {Promise<Response | undefined>} [preload] navigation preload, when enabled
 */
async function networkFirst (request, url, isPage, preload) {
  const cache = await caches.open(CACHE)
  const key = isPage ? url.origin + url.pathname : request
  try {
    const response = (preload && await preload) || await fetch(request)
    if (response.ok && isPage && !response.redirected) {
      await remember(cache, key, url, response.clone())
    }
    return response
  } catch (err) {
    const cached = await cache.match(key, { ignoreVary: true })
    if (cached) return cached
    if (isPage) return offlinePage()
    throw err
  }
}

/** Keep one copy per path: a newer build's file replaces the older versions. */
async function remember (cache, /** @type {RequestInfo} */ request, url, response) {
  if (url.pathname.startsWith('/static/')) {
    for (const old of await cache.keys()) {
      const oldUrl = new URL(old.url)
      if (oldUrl.pathname === url.pathname && oldUrl.search !== url.search) await cache.delete(old)
    }
  }
  await cache.put(request, response)
}

function offlinePage () {
  const html = `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>Offline — Quire</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; color: #1d2127; max-width: 36em; margin: 15vh auto; padding: 0 20px">
<h1 style="font-size: 22px">Quire cannot reach the server</h1>
<p>This page was never opened on this device, so there is no copy of it here yet.
Documents you had open before are still available offline. Try again when you are back online.</p>
<p><a href="/">Your documents</a></p></body></html>`
  return new Response(html, {
    status: 503,
    headers: { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': "default-src 'none'; style-src 'unsafe-inline'" },
  })
}
