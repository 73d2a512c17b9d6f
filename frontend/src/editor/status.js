// The save state in the header. "Saving…" stays up at least MIN_SAVING_MS so that fast saves
// read as a calm pulse rather than a flicker; "Saved" is never shown early.

const MIN_SAVING_MS = 500

/** @param {HTMLElement} el */
export function createSaveStatus (el) {
  let shownKind = ''
  let savingSince = 0
  let timer = 0

  /** @param {import('./session.js').SaveState} state */
  function paint (state) {
    shownKind = state.kind
    el.dataset.kind = state.kind
    el.textContent = state.label
    el.title = state.detail
  }

  /** @param {import('./session.js').SaveState} state */
  return function update (state) {
    clearTimeout(timer)
    if (state.kind === 'saving' && shownKind !== 'saving') savingSince = performance.now()
    if (state.kind === 'saved' && shownKind === 'saving') {
      const wait = MIN_SAVING_MS - (performance.now() - savingSince)
      if (wait > 0) {
        timer = window.setTimeout(() => paint(state), wait)
        return
      }
    }
    if (state.kind !== shownKind || el.textContent !== state.label) paint(state)
  }
}
