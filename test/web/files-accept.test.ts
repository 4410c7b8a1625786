/**
 * A received file that waits for the user, in the web app (Debian's Chromium, the UI of a real
 * `jiayi start` on 127.0.0.1): Alice sets "ask before downloading files larger than 1 MB" in
 * Settings; Bob (another `jiayi` process) sends her 2 MB; her conversation says why it waits and
 * offers Accept; after the click the file downloads whole (same SHA-256).
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  outputDir,
  sha256,
  sha256File,
} from './helpers.js'

interface Contact {
  id: string
  state: string
}
interface FileEntry {
  id: string
  name: string
  sha256: string
  path: string | null
  status: string
}

let alice: NodePeer
let bob: NodePeer
let browser: Browser
let context: BrowserContext
let page: Page
let aliceAtBob: Contact
let bobAtAlice: Contact

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  const [aliceCard, bobCard] = await Promise.all([
    alice.call<{ link: string }>('card'),
    bob.call<{ link: string }>('card'),
  ])
  bobAtAlice = await alice.call<Contact>('addContact', { link: bobCard.link })
  aliceAtBob = await bob.call<Contact>('addContact', { link: aliceCard.link })
  await eventually(
    async () => (await alice.call<Contact[]>('contactList')).every((c) => c.state === 'accepted'),
    'Alice and Bob are contacts',
  )
  browser = await launchBrowser()
  ;({ context, page } = await openApp(browser, alice.web))
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

test('Settings sets the size; a larger file waits with Accept, and downloads once accepted', async () => {
  await page.goto(`${alice.origin}/#/settings`)
  const field = page.getByRole('spinbutton', { name: 'Ask before downloading files larger than (MB)' })
  await eventually(async () => (await field.inputValue()) === '100', 'the default of 100 MB shown')
  await field.fill('1')
  await page.getByRole('button', { name: 'Save', exact: true }).click()
  await eventually(
    async () => (await alice.call<{ askAboveBytes: number }>('fileSettings')).askAboveBytes === 1_000_000,
    'the setting at the node',
  )

  const dir = await outputDir('files-accept')
  const path = join(dir, 'catalogue.zip')
  const bytes = randomBytes(2_000_000)
  await writeFile(path, bytes)
  await bob.call('sendFile', { contact: aliceAtBob.id, source: path })

  await page.goto(`${alice.origin}/#/chat/${bobAtAlice.id}`)
  const bubble = page.locator('li.msg.in', { hasText: 'catalogue.zip' })
  await bubble.getByText('Larger than your limit: accept to download').waitFor({ timeout: 20_000 })
  const before = (await alice.call<FileEntry[]>('files')).find((f) => f.name === 'catalogue.zip')
  assert.equal(before?.status, 'incoming')
  await page.screenshot({ path: join(dir, 'waiting.png') })

  await bubble.getByRole('button', { name: 'Accept and download catalogue.zip' }).click()
  await bubble.getByRole('button', { name: 'Download catalogue.zip' }).waitFor({ timeout: 30_000 })
  const got = await eventually(
    async () =>
      (await alice.call<FileEntry[]>('files')).find(
        (f) => f.name === 'catalogue.zip' && f.status === 'complete',
      ),
    'the file at Alice',
  )
  assert.equal(got.sha256, sha256(bytes))
  assert.equal(await sha256File(got.path!), sha256(bytes))
  assert.equal(await bubble.getByRole('button', { name: /^Accept/ }).count(), 0, 'no Accept once it is here')
})

test('a waiting file is cancelled with its button: both ends stop it, and it says so', async () => {
  const dir = await outputDir('files-accept')
  const path = join(dir, 'price-list.zip')
  await writeFile(path, randomBytes(2_000_000))
  const offered = await bob.call<{ id: string }>('sendFile', { contact: aliceAtBob.id, source: path })

  await page.goto(`${alice.origin}/#/chat/${bobAtAlice.id}`)
  const bubble = page.locator('li.msg.in', { hasText: 'price-list.zip' })
  await bubble.getByText('Larger than your limit: accept to download').waitFor({ timeout: 20_000 })
  await bubble.getByRole('button', { name: 'Cancel the transfer of price-list.zip' }).click()
  await bubble.getByText('Cancelled', { exact: true }).waitFor({ timeout: 20_000 })
  assert.equal(await bubble.getByRole('button', { name: /^Accept/ }).count(), 0, 'nothing to accept any more')
  const atAlice = (await alice.call<FileEntry[]>('files')).find((f) => f.id === offered.id)
  assert.equal(atAlice?.status, 'failed')
  await eventually(
    async () =>
      (await bob.call<FileEntry[]>('files')).find((f) => f.id === offered.id && f.status === 'failed'),
    'the sender stops too',
    // Alice's peer tells Bob's at once, over a stream of its own.
    15_000,
  )
})
