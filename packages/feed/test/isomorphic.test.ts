/**
 * @jiayi/feed runs in Node and in browsers: its sources import only @jiayi/core (whose index is
 * itself browser-safe), yjs and each other, and use no Node globals. (The DOM is kept out by the
 * compiler: the package is typed against the WebWorker lib only.)
 */
import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

test('feed sources import nothing from Node and use no Node globals', async () => {
  const files = (await readdir(SRC)).filter((f) => f.endsWith('.ts'))
  assert.ok(files.length > 10)
  for (const file of files) {
    const text = await readFile(join(SRC, file), 'utf8')
    for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'([^']+)'/gm)) {
      const spec = m[1]!
      assert.ok(spec === '@jiayi/core' || spec === 'yjs' || spec.startsWith('./'), `${file} imports ${spec}`)
    }
    const code = text.replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '')
    for (const global of ['Buffer', 'process', 'require(', '__dirname', 'globalThis.window', 'document.']) {
      assert.ok(!code.includes(global), `${file} uses ${global}`)
    }
  }
})
