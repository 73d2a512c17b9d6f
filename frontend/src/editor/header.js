// The editor's header is one row on a wide screen and wraps on a phone (quire.css): what sticks
// under it (the toolbar, the find bar, the side drawers) is placed by --topbar-h, so that follows
// the header's real height.

/** @param {HTMLElement} header */
export function trackHeaderHeight (header) {
  const root = document.documentElement
  let last = 0
  const measure = () => {
    const height = header.offsetHeight
    if (height && height !== last) {
      last = height
      root.style.setProperty('--topbar-h', `${height}px`)
    }
  }
  new ResizeObserver(measure).observe(header)
  measure()
}
