/**
 * "Scan QR code" with a camera: Chromium's fake camera shows a .y4m made from the QR code of a
 * node's card (qrcode, margin 4, 400 px; ffmpeg pads it to 640×480), the app decodes a frame with
 * jsQR and adds the contact; the other node gets the request.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import QRCode from 'qrcode'
import {
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

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
})
after(cleanup)

test('Scan QR code: the fake camera shows a card, the app adds the contact', async () => {
  const dir = await outputDir('camera')
  const card = await bob.call<{ qr: string; name: string }>('card')
  const png = join(dir, 'qr.png')
  const y4m = join(dir, 'qr.y4m')
  await QRCode.toFile(png, card.qr, { margin: 4, width: 400 })
  const ffmpeg = spawnSync(
    'ffmpeg',
    [
      '-y',
      '-loop',
      '1',
      '-i',
      png,
      '-vf',
      'scale=400:400:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=white,format=yuv420p',
      '-r',
      '10',
      '-t',
      '1',
      '-pix_fmt',
      'yuv420p',
      y4m,
    ],
    { stdio: 'pipe' },
  )
  assert.equal(
    ffmpeg.status,
    0,
    `ffmpeg (apt-get install -y ffmpeg): ${ffmpeg.stderr?.toString().slice(-500)}`,
  )

  const browser = await launchBrowser({ fakeVideo: y4m })
  try {
    const { page } = await openApp(browser, `${alice.web.split('#')[0]}#token=${alice.token}`, {
      viewport: { width: 375, height: 667 },
    })
    await page.getByRole('navigation').getByRole('link', { name: 'Contacts', exact: true }).click()
    await page.getByRole('button', { name: 'Add contact' }).click()
    await page.getByRole('button', { name: 'Scan QR code' }).click()
    await page.locator('.scanner video').waitFor()
    await page.screenshot({ path: join(dir, 'scanning.png') })
    // The notice lasts 3.5 s from the add: watched from now, not after polling Bob.
    const notice = page.getByText('Bob added. They will see your request.').waitFor()
    notice.catch(() => undefined) // awaited below; not unhandled if the poll fails first
    const request = await eventually(
      async () =>
        (await bob.call<{ id: string; name: string; state: string }[]>('contactList')).find(
          (c) => c.name === 'Alice' && c.state === 'pending-in',
        ),
      "Alice's request at Bob",
      20_000,
    )
    assert.ok(request)
    await notice
    await page.locator('.contacts .row', { hasText: 'Bob' }).getByText('Request sent').waitFor()
    assert.equal(await page.locator('.scanner video').count(), 0, 'the camera is released')
    await page.screenshot({ path: join(dir, 'added.png') })
  } finally {
    await browser.close()
  }
})
