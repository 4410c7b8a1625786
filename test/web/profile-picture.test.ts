/**
 * A profile picture set in the web app (Debian's Chromium, the UIs of two real `jiayi start`
 * peers on 127.0.0.1): Alice picks a photo in Settings, the page makes it a small square JPEG,
 * her node sends it to Bob through their session, and Bob's contacts list and chat show it in
 * place of her initial. Removing it brings the initial back at Bob.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { PNG } from 'pngjs'
import {
  befriendNodes,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  outputDir,
} from './helpers.js'

let alice: NodePeer
let bob: NodePeer
let browser: Browser
let aliceAtBob: string

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  // Bob adds Alice: her id at Bob.
  ;({ bAtA: aliceAtBob } = await befriendNodes(bob, alice))
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await cleanup()
})

test('a picture chosen in Settings reaches the contact and replaces the initial there', async () => {
  const dir = await outputDir('profile-picture')
  // A 600×400 "photo": left half dark, right half light.
  const photo = new PNG({ width: 600, height: 400 })
  for (let y = 0; y < 400; y++)
    for (let x = 0; x < 600; x++) {
      const i = (y * 600 + x) * 4
      const v = x < 300 ? 40 : 220
      photo.data[i] = v
      photo.data[i + 1] = v
      photo.data[i + 2] = 255 - v
      photo.data[i + 3] = 255
    }
  const path = join(dir, 'photo.png')
  await writeFile(path, PNG.sync.write(photo))

  const a = await openApp(browser, alice.web)
  const b = await openApp(browser, bob.web)
  try {
    await a.page.goto(`${alice.origin}/#/settings`)
    await a.page.getByText('No picture: contacts see your initial.').waitFor({ timeout: 20_000 })
    await a.page.getByLabel('Choose a picture').setInputFiles(path)
    await a.page.getByRole('img', { name: 'Your profile picture' }).waitFor({ timeout: 15_000 })
    const mine = await alice.call<{ mime: string; data: string; hash: string } | null>('profilePicture')
    assert.equal(mine?.mime, 'image/jpeg', 'the page made a JPEG of the PNG')
    assert.ok(Buffer.from(mine.data, 'base64').length < 64 * 1024)

    await eventually(
      async () =>
        (await bob.call<{ id: string; picture?: string }[]>('contactList')).find(
          (c) => c.id === aliceAtBob && c.picture === mine.hash,
        ),
      'the picture at Bob',
    )
    await b.page.goto(`${bob.origin}/#/contacts`)
    const row = b.page.getByRole('link', { name: /Alice/ })
    const img = row.locator('img.avatar')
    await img.waitFor({ timeout: 20_000 })
    const size = await img.evaluate(async (el: HTMLImageElement) => {
      await el.decode()
      return [el.naturalWidth, el.naturalHeight]
    })
    assert.deepEqual(size, [256, 256], 'a square, made small')
    await b.page.screenshot({ path: join(dir, 'at-bob.png') })

    await a.page.getByRole('button', { name: 'Remove picture' }).click()
    await a.page.getByText('No picture: contacts see your initial.').waitFor({ timeout: 15_000 })
    await eventually(
      async () =>
        (await bob.call<{ id: string; picture?: string }[]>('contactList')).find(
          (c) => c.id === aliceAtBob && c.picture === undefined,
        ),
      'removed at Bob',
    )
    await eventually(async () => (await row.locator('img.avatar').count()) === 0, 'the initial again')
  } finally {
    await a.context.close()
    await b.context.close()
  }
})
