/**
 * Settings → change passphrase, in Debian's Chromium against a real `jiayi start` on 127.0.0.1
 * whose store holds many records: the page shows how far the node is (records sealed under the
 * new key, then old records deleted), then says it is done; afterwards the key file is gone, the
 * new passphrase opens the store and the old key file does not.
 */
import assert from 'node:assert/strict'
import { access, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import {
  type BatchOp,
  LevelStore,
  openSealedStore,
  type StorageSecret,
  StoreError,
  storeKey,
  utf8,
} from '@jiayi/core'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { cleanup, ensureWebBuilt, eventually, launchBrowser, NodePeer, openApp } from './helpers.js'

let browser: Browser
let context: BrowserContext | undefined

before(async () => {
  ensureWebBuilt()
  browser = await launchBrowser()
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

async function withStore<T>(home: string, secret: StorageSecret, fn: (n: number) => Promise<T>): Promise<T> {
  const inner = await LevelStore.open(join(home, 'store'))
  try {
    const store = await openSealedStore(inner, secret)
    let n = 0
    for await (const _ of store.iterate()) n++
    return await fn(n)
  } finally {
    await inner.close()
  }
}

/** Many records, so that the change takes long enough to be watched. */
async function fill(home: string, key: Uint8Array): Promise<void> {
  const inner = await LevelStore.open(join(home, 'store'))
  try {
    const store = await openSealedStore(inner, { key })
    for (let batch = 0; batch < 20; batch++) {
      const ops: BatchOp[] = []
      for (let i = 0; i < 1000; i++) {
        const n = batch * 1000 + i
        ops.push({ type: 'put', key: storeKey('msg', `c${n % 11}`, n), value: utf8(`kept ${n} `.repeat(8)) })
      }
      await store.batch(ops)
    }
  } finally {
    await inner.close()
  }
}

test('Settings shows the change of passphrase as it goes, then that it is done', async () => {
  const first = await NodePeer.start('Keeper')
  const home = first.home
  await first.stop()
  const keyFile = new Uint8Array(await readFile(join(home, 'storage.key')))
  await fill(home, keyFile)
  const records = await withStore(home, { key: keyFile }, async (n) => n)
  const node = await NodePeer.restart(home)

  let page: Page
  ;({ context, page } = await openApp(browser, node.web))
  await page.getByRole('navigation').getByRole('link', { name: 'Settings', exact: true }).click()
  // Before: the node's owner learns that starting the node will need the passphrase, and how.
  assert.match(
    (await page.getByTestId('passphrase-node-hint').textContent()) ?? '',
    /no longer starts by itself: start it with jiayi start --passphrase/,
  )
  await page.getByLabel('New passphrase').fill('a long new passphrase 新')
  await page.getByRole('button', { name: 'Change passphrase' }).click()
  // What the page says while the node works, read as often as the page can be asked.
  const said = new Set<string>()
  const done = page.getByText('Passphrase changed. Every record is now sealed under a new key')
  await eventually(
    async () => {
      const status = page.getByRole('status').filter({ hasText: /records/ })
      for (const text of await status.allTextContents()) said.add(text)
      return (await done.count()) > 0
    },
    'the page says the change is done',
    90_000,
  )
  const sealing = [...said].filter((s) => /^Sealing records under the new key: [\d,]+ of [\d,]+$/.test(s))
  assert.ok(sealing.length > 0, `the page showed progress: ${[...said].join(' | ')}`)
  const total = Number(/of ([\d,]+)$/.exec(sealing[0]!)![1]!.replaceAll(',', ''))
  // The store's count, read before the node started: a running peer may write a few records of
  // its own since (a prekey refill, an index mark), never thousands.
  assert.ok(total >= records && total <= records + 10, `the count is the store’s: ${total} for ${records}`)
  await node.stop()

  await assert.rejects(access(join(home, 'storage.key')), 'the key file is wiped')
  await assert.rejects(
    withStore(home, { key: keyFile }, async () => undefined),
    (e) => StoreError.is(e, 'WrongKey'),
  )
  assert.equal(await withStore(home, { passphrase: 'a long new passphrase 新' }, async (n) => n), records)
})
