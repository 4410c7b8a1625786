#!/usr/bin/env node
// Runs every test/bench/*.bench.ts (or those whose path contains an argument), one at a time so
// that they do not disturb each other, and passes their JSON lines through to stdout.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const filters = process.argv.slice(2)
const benches = readdirSync(`${root}test/bench`)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort()
// The benchmarks run the `jiayi` command as users do: compiled (apps/node/dist), built here when stale.
{
  const build = spawnSync(process.execPath, ['scripts/build-cli.mjs', '--if-needed'], {
    cwd: root,
    stdio: 'inherit',
  })
  if (build.status !== 0) process.exit(build.status ?? 1)
}
let failed = 0
for (const bench of benches) {
  process.stderr.write(`# ${bench}\n`)
  const result = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--import',
      './polyfill.mjs',
      '--import',
      './test/use-node-crypto.mjs',
      `test/bench/${bench}`,
    ],
    {
      cwd: root,
      stdio: 'inherit',
    },
  )
  if (result.status !== 0) failed++
}
process.exit(failed === 0 ? 0 : 1)
