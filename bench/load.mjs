// Load generator entry: `node bench/load.mjs`, driven by `python -m bench`.
// stdin line 1: the scenario config (JSON); later lines answer control requests.
// stdout: {"control": {...}} requests and one final {"result": {...}} line. Logs on stderr.
import { log, nextLine } from './js/common.mjs'

const scenarios = {
  fanout: () => import('./js/fanout.mjs'),
  throughput: () => import('./js/throughput.mjs'),
  manydocs: () => import('./js/manydocs.mjs'),
  cold: () => import('./js/cold.mjs'),
  connections: () => import('./js/connections.mjs')
}

process.setMaxListeners(0) // every provider adds an 'exit' listener
const cfg = JSON.parse(await nextLine())
let output
try {
  const scenario = await scenarios[cfg.scenario]()
  output = { result: await scenario.run(cfg) }
} catch (error) {
  log(error && error.stack ? error.stack : error)
  output = { error: String(error && error.message ? error.message : error) }
}
process.stdout.write(JSON.stringify(output) + '\n', () => process.exit(0))
