// Throughput: one writer sends small updates as fast as it can to R receivers; time until
// every receiver has applied all of them, and the server's CPU time spent meanwhile.
import {
  body, closeClient, createBody, extensions, identical, log, openClient, openMany, performance,
  serverStats, sleep, sumErrors, waitUntil
} from './common.mjs'

export async function run (cfg) {
  const { updates, receivers: count, chunk, settleMs } = cfg.throughput
  const room = cfg.rooms[0]
  const writer = openClient(cfg.target, room)
  await writer.ready
  const text = createBody(writer.doc)
  const { clients: receivers, complete } = await openMany(cfg.target, Array(count).fill(room), { timeoutMs: cfg.timeoutMs })
  if (!complete) throw new Error(`only some of ${count} receivers synced`)
  await sleep(200) // let joins and awareness settle before measuring

  let done = 0
  for (const client of receivers) {
    let target = null
    const onUpdate = () => {
      target = target || body(client.doc)
      if (target && target.length >= updates) { done++; client.doc.off('update', onUpdate) }
    }
    client.doc.on('update', onUpdate)
  }
  const before = serverStats(cfg.pid, cfg.clockTicks)
  const start = performance.now()
  for (let i = 0; i < updates; i++) {
    text.insert(text.length, 'x') // one transaction = one update message
    if ((i + 1) % chunk === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  let allApplied = true
  try {
    await waitUntil(() => done === receivers.length, cfg.timeoutMs, 'all updates at all receivers', 1)
  } catch (_) { allApplied = false }
  const ms = performance.now() - start
  await sleep(settleMs) // include work the server defers (batched commits, compaction)
  const after = serverStats(cfg.pid, cfg.clockTicks)
  const everyone = [writer, ...receivers]
  const same = identical(everyone) && allApplied
  const cpuMs = after.cpuMs - before.cpuMs
  const metrics = {
    total_ms: ms,
    updates_per_s: (updates * 1000) / ms,
    cpu_ms_per_1k_updates: (cpuMs * 1000) / updates
  }
  log(`throughput: ${metrics.updates_per_s.toFixed(0)} updates/s, ${metrics.cpu_ms_per_1k_updates.toFixed(0)} ms CPU per 1k, identical=${same}`)
  const result = { metrics, identical: same, errors: sumErrors(everyone), extensions: extensions(writer), detail: { updates, receivers: count, cpuMs } }
  everyone.forEach(closeClient)
  return result
}
