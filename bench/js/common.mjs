// Shared pieces of the load generator: real y-websocket providers, waits, statistics, /proc readings.
import { readFileSync, readdirSync } from 'node:fs'
import * as readline from 'node:readline'
import { performance } from 'node:perf_hooks'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'

export { Y, performance }

const MESSAGE_SAVED = 100 // Quire's "persisted" confirmation (asked for with ?saved=1)
const COLORS = ['#e06c75', '#98c379', '#61afef', '#c678dd', '#d19a66', '#56b6c2']

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
export const log = (...args) => console.error('[load]', ...args)

/** Wait until predicate() is true, polling every `everyMs`; throws after timeoutMs. */
export async function waitUntil (predicate, timeoutMs, what, everyMs = 2) {
  const deadline = performance.now() + timeoutMs
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/**
 * One browser-like client: its own Y.Doc, the official provider, a user in awareness.
 * `target` is {wsBase, params}; the room is a Quire document id or any name for the peers.
 */
export function openClient (target, room, { user = true } = {}) {
  const doc = new Y.Doc()
  const provider = new WebsocketProvider(target.wsBase, room, doc, {
    WebSocketPolyfill: WebSocket,
    disableBc: true, // all clients share this process: they must talk through the server only
    params: target.params || {}
  })
  provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => { decoding.readVarUint8Array(decoder) }
  if (user) {
    provider.awareness.setLocalStateField('user', {
      name: `user-${doc.clientID}`, color: COLORS[doc.clientID % COLORS.length]
    })
  } else {
    provider.awareness.setLocalState(null)
  }
  const client = { doc, provider, room, errors: 0, unexpectedCloses: 0, closing: false, synced: false }
  client.ready = new Promise((resolve) => {
    provider.on('sync', (isSynced) => {
      if (isSynced && !client.synced) { client.synced = true; resolve(client) }
    })
  })
  provider.on('connection-error', () => { client.errors++ })
  provider.on('connection-close', () => { if (!client.closing) client.unexpectedCloses++ })
  return client
}

export function closeClient (client) {
  client.closing = true
  client.provider.destroy()
  client.doc.destroy()
}

/**
 * Open `rooms.length` clients, at most `window` handshakes in flight at once; resolve when all
 * are synced. The first `users` clients carry a user in awareness, the others none (null).
 * Gives up after timeoutMs, or after stallMs without a single client getting synced.
 * Returns {clients, seated, ms, complete}.
 */
export async function openMany (target, rooms, { window = 1, timeoutMs = 60000, stallMs = 15000, users = Infinity } = {}) {
  const start = performance.now()
  const deadline = start + timeoutMs
  const clients = []
  let pending = 0
  let seated = 0
  let lastProgress = start
  const stalled = () => performance.now() >= deadline || performance.now() - lastProgress >= stallMs
  for (const room of rooms) {
    while (pending >= window && !stalled()) await sleep(1)
    if (stalled()) break
    const client = openClient(target, room, { user: clients.length < users })
    clients.push(client)
    pending++
    client.ready.then(() => { pending--; seated++; lastProgress = performance.now() })
  }
  while (seated < rooms.length && !stalled()) await sleep(5)
  return { clients, seated, ms: performance.now() - start, complete: seated === rooms.length }
}

/** The paragraph text every scenario types into: XmlFragment('default') > paragraph > XmlText. */
export function body (doc) {
  const paragraph = doc.getXmlFragment('default').get(0)
  return paragraph ? paragraph.get(0) : null
}

export function createBody (doc) {
  doc.transact(() => {
    const paragraph = new Y.XmlElement('paragraph')
    paragraph.insert(0, [new Y.XmlText()])
    doc.getXmlFragment('default').insert(0, [paragraph])
  })
  return body(doc)
}

export const content = (doc) => doc.getXmlFragment('default').toString()

/** True when every client holds exactly the same document content. */
export function identical (clients) {
  if (clients.length === 0) return true
  const first = content(clients[0].doc)
  return clients.every((c) => content(c.doc) === first)
}

export const sumErrors = (clients) => clients.reduce((n, c) => n + c.errors + c.unexpectedCloses, 0)

/** The permessage-* extensions the server accepted (empty when none). */
export const extensions = (client) => (client && client.provider.ws && client.provider.ws.extensions) || ''

export function percentiles (values) {
  if (values.length === 0) return { n: 0, p50: null, p99: null, max: null }
  const sorted = Float64Array.from(values).sort()
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted[sorted.length - 1] }
}

export const median = (values) => percentiles(values).p50

// --- server process readings: the pid and all its descendants ---------------------------------

function readStat (pid) {
  const raw = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = raw.slice(raw.lastIndexOf(')') + 2).split(' ') // fields[0] is field 3 (state)
  return { ppid: Number(fields[1]), ticks: Number(fields[11]) + Number(fields[12]) }
}

function processTree (root) {
  const children = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const { ppid } = readStat(name)
      if (!children.has(ppid)) children.set(ppid, [])
      children.get(ppid).push(Number(name))
    } catch (_) { /* the process just exited */ }
  }
  const tree = [root]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]) || []))
  return tree
}

/** CPU time (user+system, ms) and resident memory (KiB) of the server process tree. */
export function serverStats (pid, clockTicks) {
  let cpuMs = 0
  let rssKiB = 0
  for (const p of processTree(pid)) {
    try {
      cpuMs += (readStat(p).ticks * 1000) / clockTicks
      const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))
      if (match) rssKiB += Number(match[1])
    } catch (_) { /* exited */ }
  }
  return { cpuMs, rssKiB }
}

// --- talking to the Python orchestrator over stdin/stdout ---------------------------------------

const lines = []
const waiters = []
readline.createInterface({ input: process.stdin }).on('line', (line) => {
  if (waiters.length) waiters.shift()(line)
  else lines.push(line)
})

export function nextLine () {
  if (lines.length) return Promise.resolve(lines.shift())
  return new Promise((resolve) => waiters.push(resolve))
}

/** Ask the orchestrator to do something (e.g. restart the server) and wait for its JSON answer. */
export async function control (request) {
  process.stdout.write(JSON.stringify({ control: request }) + '\n')
  return JSON.parse(await nextLine())
}
