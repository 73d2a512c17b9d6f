// Connections: C clients in one document; time to seat them all, server RSS per connection,
// then the fan-out latency of a few keystrokes to everyone.
// Only the first `users` clients show presence (awareness); the rest are readers with none:
// every y-websocket client re-sends each awareness change it hears, which is O(C) work per
// join for each browser but O(C^2) for one load process emulating all of them.
import {
  closeClient, createBody, extensions, identical, log, openClient, openMany, serverStats, sleep, sumErrors
} from './common.mjs'
import { measureTyping } from './typing.mjs'

export async function run (cfg) {
  const { clients: count, typing } = cfg.connections
  const room = cfg.rooms[0]
  const before = serverStats(cfg.pid, cfg.clockTicks)
  const writer = openClient(cfg.target, room)
  await writer.ready
  createBody(writer.doc)
  const seated = await openMany(cfg.target, Array(count - 1).fill(room), {
    window: cfg.connections.joinWindow, users: cfg.connections.users - 1, timeoutMs: cfg.connections.seatTimeoutMs
  })
  const everyone = [writer, ...seated.clients]
  const metrics = { seated: seated.seated + 1, seat_ms: seated.complete ? seated.ms : null }
  let same = false
  if (seated.complete) {
    await sleep(cfg.connections.settleMs)
    const after = serverStats(cfg.pid, cfg.clockTicks)
    metrics.rss_kib_per_conn = (after.rssKiB - before.rssKiB) / count
    const latency = await measureTyping(writer, seated.clients, typing)
    metrics.typing_p50_ms = latency.p50
    metrics.typing_p99_ms = latency.p99
    same = latency.complete && identical(everyone)
  }
  log(`connections: seated ${metrics.seated}/${count} in ${seated.ms.toFixed(0)} ms, identical=${same}`)
  const result = { metrics, identical: same, errors: sumErrors(everyone), extensions: extensions(writer), detail: { clients: count, complete: seated.complete } }
  everyone.forEach(closeClient)
  return result
}
