// The right-hand side of the editor page holds one thing at a time: the comment margin or a
// panel opened from the header (History). On a wide screen the comment margin is the default;
// on a narrow one (< 900 px) everything there is a drawer over the text, closed by default.
// The state is published as <body data-panel="comments|history|none"> for the stylesheet.

/** @typedef {'comments' | 'history' | 'outline' | 'share' | 'suggestions'} PanelName */

export const NARROW_QUERY = '(max-width: 899px)'

export function createPanels () {
  const narrow = window.matchMedia(NARROW_QUERY)
  /** @type {PanelName | null} */
  let current = narrow.matches ? null : 'comments'
  let commentsClosed = false // on a wide screen, the person closed the margin
  /** @type {Set<(current: PanelName | null, wide: boolean) => void>} */
  const listeners = new Set()

  function publish () {
    document.body.dataset.panel = current || 'none'
    document.body.classList.toggle('is-narrow', narrow.matches)
    for (const listener of listeners) listener(current, !narrow.matches)
  }

  /** What the side shows when nothing was asked for. */
  const fallback = () => (!narrow.matches && !commentsClosed ? 'comments' : null)

  const panels = {
    get current () { return current },
    get wide () { return !narrow.matches },
    /** @param {PanelName} name */
    isOpen: (name) => current === name,
    /** @param {PanelName} name */
    open (name) {
      if (name === 'comments') commentsClosed = false
      if (current !== name) {
        current = name
        publish()
      }
    },
    /** @param {PanelName} name */
    close (name) {
      if (current !== name) return
      if (name === 'comments' && !narrow.matches) commentsClosed = true
      current = name === 'comments' ? null : fallback()
      publish()
    },
    /** @param {PanelName} name */
    toggle (name) {
      if (current === name) panels.close(name)
      else panels.open(name)
    },
    /** @param {(current: PanelName | null, wide: boolean) => void} listener */
    onChange (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    /**
     * The wiring every side panel shares: its header button toggles it and says whether it
     * is open (aria-expanded); its close button, and Escape inside it, close it and give the
     * focus back to the header button; `onChange(open, wide)` hears every change. Returns a
     * function that undoes all of it.
     * @param {PanelName} name
     * @param {{button: HTMLElement, panel: HTMLElement, closeButton?: HTMLElement | null,
     *   escape?: boolean, onChange?: (open: boolean, wide: boolean) => void}} parts
     *   escape: false when the panel handles Escape itself
     */
    wire (name, { button, panel, closeButton = null, escape = true, onChange }) {
      const toggle = () => panels.toggle(name)
      const close = () => {
        panels.close(name)
        button.focus()
      }
      /** @param {KeyboardEvent} event */
      const onKey = (event) => {
        if (event.key !== 'Escape' || event.defaultPrevented) return
        event.preventDefault()
        close()
      }
      button.addEventListener('click', toggle)
      closeButton?.addEventListener('click', close)
      if (escape) panel.addEventListener('keydown', onKey)
      const off = panels.onChange((now, wide) => {
        const open = now === name
        button.setAttribute('aria-expanded', String(open))
        onChange?.(open, wide)
      })
      button.setAttribute('aria-expanded', String(current === name))
      return () => {
        button.removeEventListener('click', toggle)
        closeButton?.removeEventListener('click', close)
        panel.removeEventListener('keydown', onKey)
        off()
      }
    },
  }

  narrow.addEventListener('change', () => {
    if (narrow.matches && current === 'comments') current = null
    else if (!narrow.matches && current === null) current = fallback()
    publish()
  })
  publish()
  return panels
}
