#!/usr/bin/env -S node --max-semi-space-size=64 --min-semi-space-size=64
// The `jiayi` command. The young generation is 64 MiB a half (V8's default: up to 16): a busy
// peer allocates ~100 KiB per message, nearly all of it short-lived, and with the default every
// few hundred messages paid a scavenge and promoted survivors (`npm run bench msg`: p50 latency at
// 1,000 msg/s ~20% lower, 5% less CPU; p99 higher, ~60 ms against ~35, as the rarer scavenges
// each take longer; ~10 MiB more at idle). Its size is fixed (min = max): while V8 resizes the
// young generation it can fall into one major GC after another (it starts marking whenever the
// old generation's headroom is below the young generation's size), which took about half of a
// peer's CPU during file transfers; a fixed size costs another ~10 MiB at idle. The flags must be
// on the command line (V8 sizes the heap at start), so `npm start` passes the flags of the first
// line too, and the benchmarks read them from it (a test keeps the two in step).
// Node 20 needs the Promise.withResolvers polyfill before libp2p loads. The command runs compiled
// JavaScript (apps/node/dist, made by `npm run build:cli`, by `npm ci` and before the tests) when
// that build is newer than every source; otherwise the TypeScript sources through tsx, so an
// edit not yet built still runs as written. Everything heavy (@jiayi/core, libp2p) is imported
// lazily by the commands that need it, so client commands start fast.
import '../../../polyfill.mjs'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { freshBuild } from './freshness.mjs'

const built = freshBuild(fileURLToPath(new URL('../../../', import.meta.url)))
let main
if (built !== undefined) {
  ;({ main } = await import(pathToFileURL(built).href))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/main.ts'))
}
process.exitCode = await main(process.argv.slice(2))
