// For bench/instructions.py: open one client on each document (50 handshakes in flight, as
// manydocs does), say how it went on stdout, hold every connection until stdin closes, then
// close them all and exit. Usage: node js/open_held.mjs '{"target": ..., "rooms": [...]}'
import * as readline from 'node:readline'
import { closeClient, openMany } from './common.mjs'

const cfg = JSON.parse(process.argv[2])
const opened = await openMany(cfg.target, cfg.rooms, { window: 50, timeoutMs: 600000, stallMs: 120000 })
console.log(JSON.stringify({ seated: opened.seated, ms: opened.ms }))
readline.createInterface({ input: process.stdin }).on('close', () => {
  opened.clients.forEach(closeClient)
  setTimeout(() => process.exit(0), 100)
})
