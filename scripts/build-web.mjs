#!/usr/bin/env node
// Builds the web app (apps/web -> apps/web/dist) with Vite.
// Usage: node scripts/build-web.mjs [--if-needed]
//   --if-needed  skip the build when dist/index.html is newer than every source it is made from
//                (the app, and the packages it bundles: api, core, feed).
import { spawnSync } from 'node:child_process'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { newest } from '../apps/node/bin/freshness.mjs'

const root = fileURLToPath(new URL('..', import.meta.url))
const web = join(root, 'apps', 'web')
const SOURCES = [
  join(web, 'index.html'),
  join(web, 'vite.config.ts'),
  join(web, 'package.json'),
  join(web, 'src'),
  join(web, 'sw'),
  join(web, 'public'),
  join(root, 'packages', 'api', 'src'),
  join(root, 'packages', 'core', 'src'),
  join(root, 'packages', 'feed', 'src'),
]

function builtAt() {
  try {
    return statSync(join(web, 'dist', 'index.html')).mtimeMs
  } catch {
    return 0
  }
}

if (process.argv.includes('--if-needed')) {
  const built = builtAt()
  if (built > 0 && SOURCES.every((s) => newest(s) <= built)) process.exit(0)
  process.stderr.write('Building the web app…\n')
}
const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js')
const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], {
  cwd: web,
  stdio: 'inherit',
})
process.exit(result.status ?? 1)
