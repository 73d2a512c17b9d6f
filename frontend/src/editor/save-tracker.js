// Decides whether everything typed on this device is durably stored by the server.
//
// The server sends message type 100 after each durable commit, holding the state vector of all
// it has persisted (see the contract). We are "saved" when, for every Yjs client whose changes
// this device is responsible for, the persisted clock has reached our clock:
//   - this page's own client id (what the person types now), and
//   - clients that came out of IndexedDB (edits made offline in an earlier visit).
// Besides type 100, the session confirms the server's SYNC STEP1 vector once the matching
// SYNC STEP2 arrives: the server answers a client's step 1 only after everything it held has
// been persisted, so that vector is durable by then (this covers a commit whose type-100
// message was lost when the server stopped).
// Changes received from the server are never "ours": it persisted them before sending them.
import * as Y from 'yjs'

export class SaveTracker {
  /** @param {Y.Doc} doc */
  constructor (doc) {
    this.doc = doc
    /** @type {Map<number, number>} client -> highest clock the server confirmed as persisted */
    this.persisted = new Map()
    /** @type {Set<number>} clients whose changes this device must see persisted */
    this.watched = new Set([doc.clientID])
  }

  /** Clients loaded from IndexedDB: watch them until the server shows it has them. */
  watchLocalCopy () {
    for (const client of Y.decodeStateVector(Y.encodeStateVector(this.doc)).keys()) {
      this.watched.add(client)
    }
  }

  /** A type-100 message: everything up to `sv` is durable. @param {Map<number, number>} sv */
  confirmPersisted (sv) {
    for (const [client, clock] of sv) {
      if (clock > (this.persisted.get(client) || 0)) this.persisted.set(client, clock)
    }
  }

  /** @returns {boolean} true when nothing of ours is waiting to be persisted */
  isSaved () {
    for (const client of this.watched) {
      if (Y.getState(this.doc.store, client) > (this.persisted.get(client) || 0)) return false
    }
    return true
  }
}
