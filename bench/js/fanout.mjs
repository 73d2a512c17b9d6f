// Fan-out latency: N clients in one document, one writer typing a character every 20 ms.
import { closeClient, createBody, extensions, identical, log, openClient, openMany, sumErrors } from './common.mjs'
import { measureTyping } from './typing.mjs'

export async function run (cfg) {
  const results = {}
  let ext = ''
  let allIdentical = true
  let errors = 0
  for (const [i, n] of cfg.sizes.entries()) {
    const room = cfg.rooms[i]
    const writer = openClient(cfg.target, room)
    await writer.ready
    createBody(writer.doc)
    const { clients: receivers, complete } = await openMany(cfg.target, Array(n - 1).fill(room), { timeoutMs: cfg.timeoutMs })
    if (!complete) throw new Error(`only some of ${n - 1} receivers synced`)
    const typing = await measureTyping(writer, receivers, cfg.typing)
    const everyone = [writer, ...receivers]
    const same = identical(everyone)
    allIdentical = allIdentical && same && typing.complete
    errors += sumErrors(everyone)
    ext = ext || extensions(writer)
    log(`fanout n=${n}: p50 ${typing.p50?.toFixed(2)} p99 ${typing.p99?.toFixed(2)} max ${typing.max?.toFixed(2)} ms identical=${same}`)
    results[`n${n}`] = typing
    everyone.forEach(closeClient)
  }
  const metrics = {}
  for (const [key, r] of Object.entries(results)) {
    metrics[`${key}_p50_ms`] = r.p50
    metrics[`${key}_p99_ms`] = r.p99
    metrics[`${key}_max_ms`] = r.max
  }
  return { metrics, identical: allIdentical, errors, extensions: ext, detail: results }
}
