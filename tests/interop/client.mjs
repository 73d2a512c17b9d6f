// The official Yjs client (y-websocket provider) driven line by line by pytest.
//
// stdin:  one JSON command per line, {"id": n, "cmd": "...", ...}
// stdout: one JSON reply per command, {"id": n, "ok": true, ...} or {"id": n, "ok": false, "error": "..."}
// Logs go to stderr so stdout stays machine-readable.
import * as readline from 'node:readline'
import WebSocket from 'ws'
import * as Y from 'yjs'
import * as decoding from 'lib0/decoding'
import { WebsocketProvider } from 'y-websocket'

const doc = new Y.Doc()
let provider = null
const counters = { connected: 0, synced: 0, closes: [] }
const MESSAGE_SAVED = 100 // Quire: state vector of everything persisted so far (with ?saved=1)
let savedClock = null

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor (predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(10)
  }
}

function xmlToJson (node) {
  if (node instanceof Y.XmlText) return { text: node.toString(), delta: node.toDelta() }
  const out = { children: node.toArray().map(xmlToJson) }
  if (node instanceof Y.XmlElement) {
    out.name = node.nodeName
    out.attrs = node.getAttributes()
  }
  return out
}

const commands = {
  // Connect and (unless wait is false) wait for the first full sync with the server.
  async connect ({ url, room, params = {}, timeout = 10000, wait = true }) {
    provider = new WebsocketProvider(url, room, doc, {
      WebSocketPolyfill: WebSocket,
      disableBc: true, // every client must talk through the server, never through BroadcastChannel
      params
    })
    // Same handler shape as the browser editor: remember, reply nothing.
    provider.messageHandlers[MESSAGE_SAVED] = (_encoder, decoder) => {
      const sv = Y.decodeStateVector(decoding.readVarUint8Array(decoder))
      savedClock = sv.get(doc.clientID) ?? 0
    }
    provider.on('status', ({ status }) => { if (status === 'connected') counters.connected++ })
    provider.on('sync', (isSynced) => { if (isSynced) counters.synced++ })
    provider.on('connection-close', (event) => { counters.closes.push(event ? event.code : null) })
    if (wait) await waitFor(() => provider.synced, timeout, 'first sync')
    return { clientID: doc.clientID }
  },

  async insert_text ({ name, index = -1, text }) {
    const ytext = doc.getText(name)
    ytext.insert(index < 0 ? ytext.length : index, text)
    return {}
  },

  // Append <tag>text</tag> to an XmlFragment, the way a ProseMirror paragraph is stored.
  async xml_append ({ name = 'default', tag = 'paragraph', text = '', attrs = {} }) {
    const element = new Y.XmlElement(tag)
    for (const [key, value] of Object.entries(attrs)) element.setAttribute(key, value)
    element.insert(0, [new Y.XmlText(text)])
    doc.getXmlFragment(name).push([element])
    return {}
  },

  async set_awareness ({ state }) {
    provider.awareness.setLocalState(state)
    return {}
  },

  // Snapshot of what this client sees right now.
  async state ({ texts = [], xml = [] }) {
    const awareness = {}
    for (const [id, state] of provider.awareness.getStates()) awareness[id] = state
    return {
      clientID: doc.clientID,
      synced: provider.synced,
      localClock: Y.getState(doc.store, doc.clientID),
      savedClock,
      wsconnected: provider.wsconnected,
      counters,
      texts: Object.fromEntries(texts.map((n) => [n, doc.getText(n).toString()])),
      xml: Object.fromEntries(xml.map((n) => [n, xmlToJson(doc.getXmlFragment(n))])),
      xmlString: Object.fromEntries(xml.map((n) => [n, doc.getXmlFragment(n).toString()])),
      awareness
    }
  },

  async disconnect () {
    if (provider) provider.destroy()
    provider = null
    return {}
  }
}

const rl = readline.createInterface({ input: process.stdin })
let queue = Promise.resolve()
rl.on('line', (line) => {
  if (!line.trim()) return
  // Commands run one after another, in the order they were sent.
  queue = queue.then(async () => {
    let request = {}
    try {
      request = JSON.parse(line)
      const handler = commands[request.cmd]
      if (!handler) throw new Error(`unknown command ${request.cmd}`)
      const result = await handler(request)
      process.stdout.write(JSON.stringify({ id: request.id, ok: true, ...result }) + '\n')
    } catch (error) {
      process.stdout.write(JSON.stringify({ id: request.id, ok: false, error: String(error && error.stack || error) }) + '\n')
    }
  })
})
rl.on('close', () => {
  queue.then(() => {
    if (provider) provider.destroy()
    process.exit(0)
  })
})
