// Offline support for the page shells: register the service worker (/sw.js) and put this
// page and its files in its cache now, so that a reload works even if the server goes away
// before the next navigation (the service worker only sees requests made after it started).

const CACHE = 'quire-offline-v1' // same name as in static/sw.js

export function keepPageForOffline () {
  if (!('serviceWorker' in navigator) || !window.isSecureContext || !('caches' in window)) return
  navigator.serviceWorker.register('/sw.js', { scope: '/' }).catch((err) => {
    console.warn('Quire: offline page cache unavailable.', err)
  })
  const urls = new Set([location.pathname])
  for (const el of document.querySelectorAll('script[src], link[rel=stylesheet]')) {
    urls.add(/** @type {HTMLScriptElement | HTMLLinkElement} */ (el).getAttribute('src') || el.getAttribute('href') || '')
  }
  if (document.body.dataset.icons) urls.add(document.body.dataset.icons)
  urls.delete('')
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 500))
  idle(async () => {
    try {
      const cache = await caches.open(CACHE)
      await cache.addAll([...urls])
      // drop older builds of the same files
      const current = new Set([...urls].map((u) => new URL(u, location.href).href))
      const paths = new Set([...current].map((u) => new URL(u).pathname))
      for (const request of await cache.keys()) {
        if (!current.has(request.url) && paths.has(new URL(request.url).pathname)) await cache.delete(request)
      }
    } catch {
      // the server went away in the meantime, or storage is full: the next visit tries again
    }
  })
}
