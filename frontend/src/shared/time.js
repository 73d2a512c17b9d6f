// "3 minutes ago" from the server's timestamps.

const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' })

const UNITS = /** @type {const} */ ([
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
])

/**
 * Parse a server timestamp. Naive ISO strings (no zone) are UTC, as the server stores them.
 * @param {string} value
 * @returns {Date}
 */
export function parseServerTime (value) {
  const hasZone = /[zZ]$|[+-]\d\d:?\d\d$/.test(value)
  return new Date(hasZone ? value : `${value}Z`)
}

/**
 * @param {Date} date
 * @param {number} [now]
 * @returns {string}
 */
export function relativeTime (date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000)
  if (Math.abs(seconds) < 45) return 'just now'
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit)
  }
  return rtf.format(Math.round(seconds / 60), 'minute')
}

/** Full local date and time, for tooltips. @param {Date} date */
export function fullTime (date) {
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })
}
