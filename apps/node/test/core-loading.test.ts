/**
 * The jiayi command runs node:crypto's primitives: every command loads @jiayi/core through
 * `loadCore()` (src/core.ts), which installs them before any key is used. (A few modules import
 * pure helpers such as `storeKey` statically; loading core uses no key, calling it does, and
 * they are called only after loadCore().)
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { afterEach, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { cryptoProviderName, nobleProvider, setCryptoProvider } from '@jiayi/core/node-crypto'
import { loadCore, loadHomeStore } from '../src/core.js'

const SRC = fileURLToPath(new URL('../src/', import.meta.url))

function* sources(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield* sources(path)
    else if (name.endsWith('.ts')) yield path
  }
}

describe('the jiayi command and its crypto provider', () => {
  const before = process.env.JIAYI_CRYPTO
  afterEach(() => {
    if (before === undefined) delete process.env.JIAYI_CRYPTO
    else process.env.JIAYI_CRYPTO = before
  })

  test('loadHomeStore() (commands with no peer) installs node:crypto too', async () => {
    delete process.env.JIAYI_CRYPTO
    const previous = setCryptoProvider(nobleProvider)
    try {
      await loadHomeStore()
      assert.equal(cryptoProviderName(), 'node')
    } finally {
      setCryptoProvider(previous)
    }
  })

  test('loadCore() installs node:crypto over @noble', async () => {
    delete process.env.JIAYI_CRYPTO
    const previous = setCryptoProvider(nobleProvider)
    try {
      await loadCore()
      assert.equal(cryptoProviderName(), 'node')
    } finally {
      setCryptoProvider(previous)
    }
  })

  test('JIAYI_CRYPTO=noble keeps @noble (for the benchmarks that compare the two)', async () => {
    process.env.JIAYI_CRYPTO = 'noble'
    const previous = setCryptoProvider(nobleProvider)
    try {
      await loadCore()
      assert.equal(cryptoProviderName(), 'noble')
    } finally {
      setCryptoProvider(previous)
    }
  })

  test('no module but src/core.ts loads @jiayi/core on demand itself', () => {
    const offenders: string[] = []
    for (const file of sources(SRC)) {
      const rel = relative(SRC, file)
      if (rel === 'core.ts') continue
      const text = readFileSync(file, 'utf8')
      // Dynamic imports that are not in a type position (`typeof import(…)`, `: import(…)`).
      for (const m of text.matchAll(/(typeof |: )?import\('@jiayi\/core(\/home-store)?'\)/g)) {
        if (m[1] === undefined) offenders.push(rel)
      }
    }
    assert.deepEqual(offenders, [], 'load @jiayi/core through loadCore() (src/core.ts)')
  })
})
