// One open document: the Y.Doc, its IndexedDB copy, its WebSocket provider and the save state.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as decoding from 'lib0/decoding'
import { messageYjsSyncStep1, messageYjsSyncStep2 } from 'y-protocols/sync'
import { SaveTracker } from './save-tracker.js'

/** Server -> client: "everything up to this state vector is durably stored" (contract). */
export const MESSAGE_PERSISTED = 100

/** Terminal close codes (the provider stops reconnecting) and what we tell the person. */
const CLOSE_REASONS = {
  4404: 'This document does not exist. Check the link.',
  4410: 'This document was deleted.',
}

/**
 * @typedef {'connecting'|'saving'|'saved'|'offline'|'reconnecting'|'closed'} SaveKind
 * @typedef {{kind: SaveKind, label: string, detail: string}} SaveState
 */

export class DocSession {
  /** @param {string} docId */
  constructor (docId) {
    this.docId = docId
    this.doc = new Y.Doc()
    this.tracker = new SaveTracker(this.doc)
    /** @type {Set<(state: SaveState) => void>} */
    this.listeners = new Set()
    this.everSynced = false
    /** @type {string | null} set when the server closed for good (deleted, unknown) */
    this.closedReason = null
    /** @type {IndexeddbPersistence | null} */
    this.local = null

    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    this.provider = new WebsocketProvider(`${scheme}//${location.host}/ws`, docId, this.doc, {
      connect: false,
      params: { saved: '1' },
    })
    this.awareness = this.provider.awareness
    this._listen()
  }

  /** Load the local copy (fast), then connect. Resolves once the local copy is in the doc. */
  async start () {
    try {
      this.local = new IndexeddbPersistence(`quire:${this.docId}`, this.doc)
      // IndexedDB answers in milliseconds; never let a stuck one keep us offline.
      await Promise.race([this.local.whenSynced, new Promise((resolve) => setTimeout(resolve, 1500))])
      this.tracker.watchLocalCopy()
    } catch (err) {
      console.warn('Quire: no local copy (IndexedDB unavailable); edits live only on the server.', err)
      this.local = null
    }
    this.provider.connect()
    this._emit()
  }

  /** @param {(state: SaveState) => void} listener */
  onState (listener) {
    this.listeners.add(listener)
    listener(this.state())
    return () => this.listeners.delete(listener)
  }

  /** @returns {SaveState} */
  state () {
    const provider = this.provider
    if (this.closedReason) return { kind: 'closed', label: 'Unavailable', detail: this.closedReason }
    if (!navigator.onLine) {
      return {
        kind: 'offline',
        label: 'Offline — changes kept on this device',
        detail: 'Keep writing. Your changes are stored in this browser and sent when you are back online.',
      }
    }
    if (provider.synced) {
      return this.tracker.isSaved()
        ? { kind: 'saved', label: 'Saved', detail: 'All changes are stored on the server.' }
        : { kind: 'saving', label: 'Saving…', detail: 'Sending your latest changes to the server.' }
    }
    if (this.everSynced || provider.wsUnsuccessfulReconnects > 0) {
      return {
        kind: 'reconnecting',
        label: 'Reconnecting…',
        detail: 'The server cannot be reached right now. Keep writing: changes are kept on this device and sent when it is back.',
      }
    }
    return { kind: 'connecting', label: 'Connecting…', detail: 'Opening the document.' }
  }

  _emit () {
    const state = this.state()
    for (const listener of this.listeners) listener(state)
  }

  _listen () {
    const provider = this.provider

    provider.messageHandlers[MESSAGE_PERSISTED] = (_encoder, decoder) => {
      this.tracker.confirmPersisted(Y.decodeStateVector(decoding.readVarUint8Array(decoder)))
      this._emit()
    }

    // Peek at the server's SYNC messages before the standard handler runs. Its STEP1 carries
    // the state vector it holds; it sends STEP2 only once all of that is persisted, so on
    // STEP2 that vector counts as confirmed (see SaveTracker).
    /** @type {Map<number, number> | null} */
    let serverSv = null
    const syncHandler = provider.messageHandlers[0]
    provider.messageHandlers[0] = (encoder, decoder, prov, fromServer, messageType) => {
      // fromServer is false for messages from other tabs (BroadcastChannel): not evidence.
      const peek = decoding.clone(decoder)
      const type = fromServer ? decoding.readVarUint(peek) : -1
      if (type === messageYjsSyncStep1) serverSv = Y.decodeStateVector(decoding.readVarUint8Array(peek))
      syncHandler(encoder, decoder, prov, fromServer, messageType)
      if (type === messageYjsSyncStep2 && serverSv) {
        this.tracker.confirmPersisted(serverSv)
        serverSv = null
        this._emit()
      }
    }
    provider.on('status', ({ status }) => { if (status === 'connecting') serverSv = null })

    provider.on('sync', (synced) => {
      if (synced && !this.everSynced) performance.mark('quire:first-sync')
      if (synced) this.everSynced = true
      this._emit()
    })
    provider.on('status', () => this._emit())
    provider.on('connection-close', () => this._emit())
    provider.on('closed', ({ code }) => {
      this.closedReason = CLOSE_REASONS[code] || 'The server closed this document.'
      if (code === 4410 && this.local) this.local.clearData().catch(() => {})
      this._emit()
    })
    this.doc.on('update', () => this._emit())

    // The browser knows before the socket does: stop retrying while offline, resume at once.
    window.addEventListener('offline', () => {
      provider.disconnect()
      this._emit()
    })
    window.addEventListener('online', () => {
      if (!this.closedReason) provider.connect()
      this._emit()
    })
    // Leave at once when the page goes away, so others see our caret vanish immediately.
    window.addEventListener('pagehide', () => {
      this.awareness.setLocalState(null)
      provider.disconnect()
    })
    window.addEventListener('pageshow', (event) => {
      if (event.persisted && !this.closedReason) provider.connect()
    })
  }
}
