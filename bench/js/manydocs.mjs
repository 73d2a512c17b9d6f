// Many documents: one client per document, ~1 KB typed into each; server RSS per open
// document; every connection held for a while without errors; a fresh client per document
// then checks the server kept exactly what was typed.
import {
  body, closeClient, content, createBody, extensions, log, openMany, serverStats, sleep, sumErrors
} from './common.mjs'

export async function run (cfg) {
  const { bytes, edits, holdMs, verifyWindow } = cfg.manydocs
  const before = serverStats(cfg.pid, cfg.clockTicks)
  const opened = await openMany(cfg.target, cfg.rooms, { window: 50, timeoutMs: cfg.timeoutMs })
  const afterOpen = serverStats(cfg.pid, cfg.clockTicks)
  if (!opened.complete) throw new Error(`only ${opened.seated} of ${cfg.rooms.length} documents synced`)
  const piece = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(bytes / 27)).slice(0, Math.ceil(bytes / edits))
  for (const client of opened.clients) {
    const text = createBody(client.doc)
    for (let i = 0; i < edits; i++) text.insert(text.length, piece)
  }
  await sleep(holdMs) // hold every connection open
  const after = serverStats(cfg.pid, cfg.clockTicks)
  const connected = opened.clients.filter((c) => c.provider.wsconnected).length

  // Verify through fresh clients, a window at a time, while the originals stay connected.
  let mismatches = 0
  for (let i = 0; i < opened.clients.length; i += verifyWindow) {
    const originals = opened.clients.slice(i, i + verifyWindow)
    const check = await openMany(cfg.target, originals.map((c) => c.room), { window: 50, users: 0, timeoutMs: cfg.timeoutMs })
    check.clients.forEach((fresh, j) => {
      const expected = content(originals[j].doc)
      if (!fresh.synced || content(fresh.doc) !== expected || body(fresh.doc).length !== body(originals[j].doc).length) mismatches++
    })
    check.clients.forEach(closeClient)
  }
  const docs = cfg.rooms.length
  const metrics = {
    open_ms: opened.ms,
    // the server's own CPU while they opened (its process tree: not PostgreSQL's), per
    // document: steadier than the wall time, which the load generator shares two cores with
    open_cpu_ms_per_doc: (afterOpen.cpuMs - before.cpuMs) / cfg.rooms.length,
    rss_kib_per_doc: (after.rssKiB - before.rssKiB) / docs,
    connected,
    errors: sumErrors(opened.clients)
  }
  log(`manydocs: ${docs} docs, ${metrics.rss_kib_per_doc.toFixed(1)} KiB/doc, connected ${connected}, mismatches ${mismatches}`)
  const result = {
    metrics,
    identical: mismatches === 0 && connected === docs,
    errors: metrics.errors,
    extensions: extensions(opened.clients[0]),
    detail: { docs, rssBeforeKiB: before.rssKiB, rssAfterKiB: after.rssKiB, mismatches }
  }
  opened.clients.forEach(closeClient)
  return result
}
