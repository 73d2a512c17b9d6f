// Where thread cards go in the margin: each as close as possible to its passage, none
// overlapping. The active card sits exactly at its passage; the others make room around it.

/**
 * @param {Array<{desired: number, height: number}>} items sorted by `desired`
 * @param {{active?: number, gap?: number, min?: number}} [options] active: index of the card
 *   that must be aligned; min: the highest allowed top
 * @returns {number[]} the top of each card
 */
export function stackCards (items, { active = -1, gap = 8, min = 0 } = {}) {
  const tops = items.map((item) => Math.max(item.desired, min))
  if (active >= 0 && active < items.length) {
    // Cards above the active one move up as far as they must (never above `min`) ...
    for (let i = active - 1; i >= 0; i--) {
      tops[i] = Math.min(tops[i], tops[i + 1] - gap - items[i].height)
    }
    if (tops.length && tops[0] < min) {
      tops[0] = min
      for (let i = 1; i <= active; i++) tops[i] = Math.max(tops[i], tops[i - 1] + items[i - 1].height + gap)
    }
    // ... and the ones below move down.
    for (let i = active + 1; i < items.length; i++) {
      tops[i] = Math.max(tops[i], tops[i - 1] + items[i - 1].height + gap)
    }
    return tops
  }
  for (let i = 1; i < items.length; i++) {
    tops[i] = Math.max(tops[i], tops[i - 1] + items[i - 1].height + gap)
  }
  return tops
}
