#!/usr/bin/env node
// Compiles the `jiayi` command (apps/node/src, the workspace packages it imports and their
// dependencies) into apps/node/dist with esbuild: one ES module per lazily imported part, so
// commands that need no peer still load nothing heavy. Dependencies are bundled too: left to
// Node's loader, resolving and reading the many small modules of libp2p and the rest took about half
// of a peer's start (CPU from start to ready and stop: 2.2 s against 1.2 s bundled; `npm run
// bench cli`). Native modules (LevelDB's, WebRTC's) and the optional native helpers of `ws` stay
// outside and load from node_modules as they are.
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

/** Packages with native code (their subpaths too), loaded from node_modules at run time. */
const NATIVE = ['classic-level', 'node-datachannel', 'bufferutil', 'utf-8-validate']

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
  // V8 keeps each module's source text and, until the young generation's first collection, the
  // file's bytes and its decoded string: a peer that has just started is ~5 MiB smaller with
  // whitespace and syntax minified (peer.rss_mb in `npm run bench cli`; docs/performance.md).
  // Names stay as written, so stack traces still name their functions; the linked source map
  // turns their columns back into source lines (node --enable-source-maps).
  minifyWhitespace: true,
  minifySyntax: true,
  chunkNames: 'chunks/[name]-[hash]',
  external: NATIVE,
  // Bundled CommonJS dependencies call require() (for Node's builtins and the native modules).
  banner: {
    js: "import { createRequire as __jiayiCreateRequire } from 'node:module'; const require = __jiayiCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
