#!/usr/bin/env node
// Compiles the `jiayi` command (apps/node/src and the workspace packages it imports) into
// apps/node/dist with esbuild: one ES module per lazily imported part, so commands that need no
// peer still load nothing heavy. Dependencies from node_modules stay outside the bundle and load
// as they are (native modules, package `exports`, the `browser` field all keep working).
// Usage: node scripts/build-cli.mjs [--if-needed]
//   --if-needed  skip the build when it is newer than every source (apps/node/bin/freshness.mjs)
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('..', import.meta.url))
const { freshBuild } = await import(pathToFileURL(join(root, 'apps/node/bin/freshness.mjs')).href)
const outdir = join(root, 'apps', 'node', 'dist')

if (process.argv.includes('--if-needed') && freshBuild(root) !== undefined) process.exit(0)
process.stderr.write('Building the jiayi command…\n')

/** Every bare import but our own workspace packages is left to Node at run time. */
const externalDependencies = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@jiayi/') ? undefined : { path: args.path, external: true },
    )
  },
}

rmSync(outdir, { recursive: true, force: true })
await build({
  entryPoints: { main: join(root, 'apps', 'node', 'src', 'main.ts') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  chunkNames: 'chunks/[name]-[hash]',
  plugins: [externalDependencies],
  logLevel: 'warning',
})
