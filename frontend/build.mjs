// Bundles the browser code with esbuild: `npm run build` (once) or `npm run watch`.
// Output goes to static/dist/ (gitignored); pages reference it as /static/dist/<name>.js.
// Lint is ESLint's (eslint.config.js, `npm run lint`, part of `make check`).
import * as esbuild from 'esbuild'

const watch = process.argv.includes('--watch')

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
