// One open document: the Y.Doc, its IndexedDB copy, its WebSocket provider and the save state.
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import { IndexeddbPersistence } from 'y-indexeddb'
import * as decoding from 'lib0/decoding'
import { messageYjsSyncStep1, messageYjsSyncStep2 } from 'y-protocols/sync'
import { readAuthMessage } from 'y-protocols/auth'
import { SaveTracker } from './save-tracker.js'

/** Server -> client: "everything up to this state vector is durably stored" (contract). */
export const MESSAGE_PERSISTED = 100

/** y-websocket's auth message: the server refused an update (`[2, 0, reason]`). */
export const MESSAGE_AUTH = 2

/**
 * Terminal close codes (the provider stops reconnecting) and what we tell the person. 4401 and
 * 4403 usually get a better sentence from the page (it knows who is asking and what they saw).
 */
export const CLOSE_REASONS = {
  4401: 'Sign in to open this document.',
  4403: 'You do not have access to this document.',
  // the server gives the same answer for an unknown id and a document not shared with you
  4404: 'This document does not exist, or it was not shared with you. Check the link, or ask its owner to share it.',
  4406: 'This page is not at the address Quire is served from, so the server would not open the document. Open Quire at its usual address.',
  4410: 'This document was deleted.',
  4413: 'This document has reached its size limit, so your latest change was not saved. Remove something, or start a new document.',
}

/** Close codes after which this device's copy of the document is no longer ours to keep. */
const FORGET_LOCAL_COPY = new Set([4403, 4404, 4410])

/**
 * @typedef {'connecting'|'saving'|'saved'|'readonly'|'offline'|'reconnecting'|'closed'} SaveKind
 * @typedef {{kind: SaveKind, label: string, detail: string}} SaveState
 */

export class DocSession {
  /**
   * @param {string} docId
   * @param {{token?: string | null}} [options] token: a share link's, sent as the `token` param
   */
  constructor (docId, { token = null } = {}) {
    this.docId = docId
    this.doc = new Y.Doc()
    this.tracker = new SaveTracker(this.doc)
    /** @type {Set<(state: SaveState) => void>} */
    this.listeners = new Set()
    this.everSynced = false
    /** @type {string | null} set when the server closed for good (deleted, unknown, no access) */
    this.closedReason = null
    /** @type {{code: number, reason: string} | null} the terminal close frame */
    this.closeFrame = null
    /** @type {'viewer'|'commenter'|'editor'|'owner'|null} this person's role, once known */
    this.role = null
    /** @type {string | null} the server's reason when it refused one of our updates */
    this.denied = null
    /** @type {Set<(reason: string) => void>} */
    this.deniedListeners = new Set()
    /** @type {IndexeddbPersistence | null} */
    this.local = null

    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:'
    /** @type {Record<string, string>} */
    const params = { saved: '1' }
    if (token) params.token = token
    this.provider = new WebsocketProvider(`${scheme}//${location.host}/ws`, docId, this.doc, {
      connect: false,
      params,
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

  /** Delete this device's copy of the document (IndexedDB); the page keeps what it shows. */
  async forgetLocalCopy () {
    const local = this.local
    this.local = null
    if (local) await local.clearData().catch(() => {})
  }

  /** @param {(state: SaveState) => void} listener */
  onState (listener) {
    this.listeners.add(listener)
    listener(this.state())
    return () => this.listeners.delete(listener)
  }

  /** What this person may do here; a viewer's page says "Read-only" instead of saving. @param {DocSession['role']} role */
  setRole (role) {
    if (role === this.role) return
    this.role = role
    if (role === 'editor' || role === 'owner') this.denied = null
    this._emit()
  }

  /** The server refused an update of ours (our role is lower than the page thought). @param {(reason: string) => void} listener */
  onDenied (listener) {
    this.deniedListeners.add(listener)
    return () => this.deniedListeners.delete(listener)
  }

  /** @returns {SaveState} */
  state () {
    const provider = this.provider
    if (this.closedReason) {
      const code = this.closeFrame?.code
      const label = code === 4403 ? 'No access' : code === 4401 ? 'Signed out' : code === 4413 ? 'Not saved' : 'Unavailable'
      return { kind: 'closed', label, detail: this.closedReason }
    }
    if (!navigator.onLine) {
      return {
        kind: 'offline',
        label: 'Offline — changes kept on this device',
        detail: 'Keep writing. Your changes are stored in this browser and sent when you are back online.',
      }
    }
    if (provider.synced && this.role === 'viewer') {
      return { kind: 'readonly', label: 'Read-only', detail: 'You can read this document; you cannot edit it.' }
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

    // Instead of y-websocket's console warning: tell the page, which re-reads its role.
    provider.messageHandlers[MESSAGE_AUTH] = (_encoder, decoder) => {
      readAuthMessage(decoder, this.doc, (_doc, reason) => {
        this.denied = reason || 'permission denied'
        for (const listener of this.deniedListeners) listener(this.denied)
        this._emit()
      })
    }

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
    provider.on('closed', ({ code, reason }) => {
      this.closeFrame = { code, reason: reason || '' }
      this.closedReason = CLOSE_REASONS[code] || reason || 'The server closed this document.'
      if (FORGET_LOCAL_COPY.has(code) && this.local) this.local.clearData().catch(() => {})
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
