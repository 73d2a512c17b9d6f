// Bundles the browser code with esbuild: `npm run build` (once) or `npm run watch`.
// Output goes to static/dist/ (gitignored); pages reference it as /static/dist/<name>.js.
import * as esbuild from 'esbuild'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const watch = process.argv.includes('--watch')

// The sources omit semicolons, so a line that starts with ( [ or ` (a JSDoc cast included)
// would continue the previous statement: `a = true\n(x).focus()` calls `true(x)`. Refuse it.
function checkLineStarts (dir) {
  const problems = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) problems.push(...checkLineStarts(path))
    else if (entry.name.endsWith('.js')) {
      let previous = ''
      readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
        const code = line.trimStart().replace(/^\/\*\*.*?\*\/\s*/, '')
        if (/^[([`]/.test(code) && /[\w)\]'"`]$/.test(previous)) {
          problems.push(`${path}:${i + 1}: line starts with "${code[0]}" and would continue the line before; begin it with ";"`)
        }
        const trimmed = line.replace(/\/\/.*$/, '').trim()
        if (trimmed && !trimmed.startsWith('*') && !trimmed.startsWith('/*')) previous = trimmed
      })
    }
  }
  return problems
}
const problems = checkLineStarts('src')
if (problems.length) {
  console.error(problems.join('\n'))
  process.exit(1)
}

/** @type {import('esbuild').BuildOptions} */
const options = {
  entryPoints: {
    editor: 'src/editor/main.js',
    dashboard: 'src/dashboard/main.js',
  },
  outdir: 'static/dist',
  bundle: true,
  format: 'esm',
  minify: !process.env.QUIRE_NO_MINIFY, // QUIRE_NO_MINIFY=1: readable stack traces while debugging
  sourcemap: true,
  target: ['es2022', 'chrome110', 'firefox110', 'safari16'],
  legalComments: 'linked',
  metafile: true,
  logLevel: 'warning',
}

if (watch) {
  const ctx = await esbuild.context({ ...options, logLevel: 'info' })
  await ctx.watch()
} else {
  const result = await esbuild.build(options)
  for (const [file, info] of Object.entries(result.metafile.outputs)) {
    if (file.endsWith('.js')) console.log(`${file}  ${(info.bytes / 1024).toFixed(1)} KiB`)
  }
}
