// Cold load: build a ~100,000-character document from 100k one-character edits (typed in runs
// at random places, several edits per update), let the server store it, then time how long a
// fresh client needs to be synced. Quire is restarted before every sample so the document
// comes from the database only; the peers have no storage and serve it warm from memory.
import {
  closeClient, content, control, createBody, extensions, log, median, openClient, performance,
  sleep, sumErrors, waitUntil, Y
} from './common.mjs'

function random (seed) { // small deterministic PRNG (mulberry32): same document on every server
  return () => {
    seed = (seed + 0x6D2B79F5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

async function build (writer, { chars, editsPerUpdate, maxRun }) {
  const text = createBody(writer.doc)
  const rand = random(42)
  let edits = 0
  let pos = 0
  let run = 0
  while (edits < chars) {
    writer.doc.transact(() => {
      for (let i = 0; i < editsPerUpdate && edits < chars; i++, edits++) {
        if (run === 0) { pos = Math.floor(rand() * (text.length + 1)); run = 1 + Math.floor(rand() * maxRun) }
        text.insert(pos++, String.fromCharCode(97 + Math.floor(rand() * 26)))
        run--
      }
    })
    await new Promise((resolve) => setImmediate(resolve))
  }
  return edits
}

export async function run (cfg) {
  const room = cfg.rooms[0]
  const writer = openClient(cfg.target, room)
  await writer.ready
  const observer = openClient(cfg.target, room, { user: false })
  await observer.ready
  const buildStart = performance.now()
  const edits = await build(writer, cfg.cold)
  const expected = content(writer.doc)
  const updateBytes = Y.encodeStateAsUpdate(writer.doc).length
  await waitUntil(() => content(observer.doc).length === expected.length, cfg.timeoutMs, 'the observer to receive the whole document', 20)
  const buildMs = performance.now() - buildStart
  const ext = extensions(writer)
  closeClient(observer)
  if (cfg.cold.restart) closeClient(writer) // Quire keeps it in the database only
  log(`cold: built ${edits} edits, ${expected.length} chars of XML in ${buildMs.toFixed(0)} ms`)

  const samples = []
  let mismatches = 0
  for (let i = 0; i < cfg.cold.samples; i++) {
    if (cfg.cold.restart) await control({ action: 'restart' })
    // A peer may have dropped the holder meanwhile (counted as an error): wait until it is back.
    else await waitUntil(() => writer.provider.wsconnected && writer.provider.synced, cfg.timeoutMs, 'the holder to be connected', 5)
    const start = performance.now()
    const fresh = openClient(cfg.target, room)
    await Promise.race([fresh.ready, sleep(cfg.timeoutMs)])
    samples.push(performance.now() - start)
    if (!fresh.synced || content(fresh.doc) !== expected) {
      mismatches++
      log(`cold: sample ${i} synced=${fresh.synced} got ${content(fresh.doc).length} chars, expected ${expected.length}`)
    }
    closeClient(fresh)
    await sleep(300)
  }
  const errors = sumErrors([writer, observer]) // the holder's drops included
  if (!cfg.cold.restart) closeClient(writer)
  const metrics = { sync_ms_median: median(samples) }
  log(`cold: samples ${samples.map((s) => s.toFixed(1)).join(', ')} ms; mismatches ${mismatches}`)
  return {
    metrics,
    identical: mismatches === 0,
    errors,
    extensions: ext,
    detail: { samples, edits, buildMs, updateBytes, restarted: cfg.cold.restart }
  }
}
