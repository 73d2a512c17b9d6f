// Bundles the browser code with esbuild: `npm run build` (once) or `npm run watch`.
// Output goes to static/dist/ (gitignored); pages reference it as /static/dist/<name>.js.
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
  minify: true,
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
