// Typing latency: one writer types at a fixed pace; every other client reports when each
// keystroke arrives. Latency = arrival at a receiver - the writer's local change.
import { body, percentiles, performance, sleep, waitUntil } from './common.mjs'

export async function measureTyping (writer, receivers, { keystrokes, intervalMs, warmup = 0, timeoutMs = 15000 }) {
  const text = body(writer.doc)
  const base = text.length
  const sent = new Float64Array(keystrokes)
  const latencies = []
  let done = 0
  const detach = receivers.map((client) => {
    let seen = 0
    let target = null
    const onUpdate = () => {
      target = target || body(client.doc)
      if (!target) return
      const arrived = Math.min(keystrokes, target.length - base)
      if (arrived <= seen) return
      const now = performance.now()
      for (; seen < arrived; seen++) if (seen >= warmup) latencies.push(now - sent[seen])
      if (seen === keystrokes) done++
    }
    client.doc.on('update', onUpdate)
    return () => client.doc.off('update', onUpdate)
  })
  const start = performance.now()
  for (let k = 0; k < keystrokes; k++) {
    const wait = start + k * intervalMs - performance.now()
    if (wait > 0) await sleep(wait)
    sent[k] = performance.now()
    text.insert(text.length, String.fromCharCode(97 + (k % 26)))
  }
  let complete = true
  try {
    await waitUntil(() => done === receivers.length, timeoutMs, 'every keystroke at every receiver')
  } catch (_) { complete = false }
  detach.forEach((off) => off())
  return { ...percentiles(latencies), complete, keystrokes, receivers: receivers.length }
}
