/**
 * LAN HTTPS mode (`jiayi start --web-lan`, bound to 127.0.0.1 here: tests never listen on the
 * machine's real interfaces), in Debian's Chromium:
 *
 * - `jiayi start` prints the certificate's fingerprint and a QR code of the LAN "cert link"
 *   (the LAN address with the fingerprint in its fragment);
 * - the node's own UI (Settings) shows phones the same link as a QR code, and the fingerprint;
 * - the LAN page opened from that link (a fresh browser profile) warns that its origin is a bare
 *   IP address, shows the fingerprint as text and QR code and that it matches the scanned one,
 *   and offers the passphrase lock by default: the profile it creates is sealed (a reload asks
 *   for the passphrase); a link naming another certificate is flagged.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import jsQRModule from 'jsqr'
import type { Browser, BrowserContext, Locator } from 'playwright-core'
import { PNG } from 'pngjs'
import { BIN, cleanup, ensureWebBuilt, launchBrowser, NodePeer, outputDir, ROOT } from './helpers.js'

const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ??
  jsQRModule) as typeof jsQRModule.default

interface LanReady {
  webCertificate: string
  webLanLinks: string[]
}

async function readQr(img: Locator): Promise<string> {
  await img.evaluate((el: HTMLImageElement) => el.decode())
  const image = PNG.sync.read(await img.screenshot())
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)
  if (code === null) throw new Error('no QR code in the screenshot')
  return code.data
}

describe('LAN HTTPS mode', () => {
  let node: NodePeer
  let ready: LanReady
  let browser: Browser
  const contexts: BrowserContext[] = []
  const fresh = async () => {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      viewport: { width: 375, height: 667 },
      locale: 'en-US',
    })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (e) => console.error('page error:', e.message))
    return page
  }

  before(async () => {
    ensureWebBuilt()
    node = await NodePeer.start('Shop', ['--web-lan', '--web-host', '127.0.0.1'])
    ready = node.ready as unknown as LanReady
    browser = await launchBrowser()
  })
  after(async () => {
    for (const c of contexts) await c.close()
    await browser?.close()
    await cleanup()
  })

  test('jiayi start prints the fingerprint and the cert link as a QR code', async () => {
    const home = await mkdtemp(join(tmpdir(), 'jyl-'))
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--home',
        home,
        'start',
        '--init-if-needed',
        '--name',
        'Kiosk',
        '--no-mdns',
        '--no-link-previews',
      ].concat(['--listen', '/ip4/127.0.0.1/tcp/0', '--web-lan', '--web-host', '127.0.0.1']),
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      let out = ''
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no status: ${out}`)), 30_000)
        child.stdout!.setEncoding('utf8').on('data', (d: string) => {
          out += d
          if (out.includes('Stop it with Ctrl+C')) {
            clearTimeout(timer)
            resolve()
          }
        })
      })
      const fingerprint = /TLS cert {2}SHA-256 ((?:[0-9A-F]{2}:){31}[0-9A-F]{2})/.exec(out)?.[1]
      assert.ok(fingerprint, out)
      const link = /https:\/\/\S+\/#cert=([0-9A-F]{64})/.exec(out)
      assert.ok(link, 'the cert link is printed')
      assert.equal(link[1], fingerprint.replace(/:/g, ''))
      assert.match(out, /[▀▄█]{10}/, 'a QR code drawn in the terminal')
      assert.match(out, /check that the SHA-256 fingerprint is the one above/)
    } finally {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
      await rm(home, { recursive: true, force: true })
    }
  })

  test('the node’s own UI shows phones the cert link as a QR code, and the fingerprint', async () => {
    const page = await fresh()
    await page.goto(node.web)
    await page.getByRole('heading', { name: 'Chats' }).waitFor()
    await page.goto(`${node.origin}/#/settings`)
    const card = page.locator('section.lan-access')
    await card.getByRole('heading', { name: 'Phones on your network' }).waitFor()
    assert.equal(await card.locator('code.fingerprint').textContent(), ready.webCertificate)
    const link = await readQr(card.getByRole('img', { name: 'QR code to open Jiayi on a phone' }))
    assert.equal(link, ready.webLanLinks[0])
    assert.ok(link.endsWith(`#cert=${ready.webCertificate.replace(/:/g, '')}`))
    await card.screenshot({ path: join(await outputDir('lan'), 'node-settings.png') })
  })

  test('the LAN page warns about its bare IP, checks the fingerprint and locks the profile by default', async () => {
    const page = await fresh()
    const hex = ready.webCertificate.replace(/:/g, '')
    // What scanning the cert link opens, at the test's own address for the node.
    await page.goto(`${node.origin}/#cert=${hex}`)
    const check = page.locator('section.lan-check')
    await check.getByRole('heading', { name: 'Check this connection' }).waitFor({ timeout: 30_000 })
    assert.match(
      (await check.getByRole('alert').first().textContent()) ?? '',
      /by an IP address \(127\.0\.0\.1\)/,
    )
    assert.equal(await check.locator('code.fingerprint').textContent(), ready.webCertificate)
    await check.getByText('It matches the code you scanned from your node.').waitFor()
    assert.equal(
      await readQr(check.getByRole('img', { name: 'Certificate fingerprint as a QR code' })),
      ready.webCertificate,
    )
    assert.ok(!page.url().includes('#cert='), 'the fragment is taken from the address')

    await page.screenshot({ path: join(await outputDir('lan'), 'lan-page.png'), fullPage: true })
    const lock = page.getByRole('checkbox', { name: 'Lock this profile with a passphrase (recommended)' })
    assert.equal(await lock.isChecked(), true, 'the lock is on by default')
    await page.getByRole('textbox', { name: 'Your name' }).fill('Phone')
    const create = page.getByRole('button', { name: 'Create my identity' })
    assert.equal(await create.isDisabled(), true, 'no identity without a passphrase while locked')
    await page.getByLabel('Passphrase (at least 8 characters)').fill('jasmine tea 2024')
    await create.click()
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })

    // The profile is sealed: after a reload it asks for the passphrase.
    await page.reload()
    await page.getByRole('heading', { name: 'Your identity is locked' }).waitFor({ timeout: 30_000 })
    await page.getByLabel('Passphrase (optional)').fill('jasmine tea 2024')
    await page.getByRole('button', { name: 'Unlock' }).click()
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })
  })

  test('a code naming another certificate is flagged; turning the lock off says what it means', async () => {
    const page = await fresh()
    await page.goto(`${node.origin}/#cert=${'AB'.repeat(32)}`)
    const check = page.locator('section.lan-check')
    await check
      .getByText('It does not match the code you scanned: this may not be your node. Do not continue.')
      .waitFor({ timeout: 30_000 })
    await page.getByRole('checkbox', { name: 'Lock this profile with a passphrase (recommended)' }).uncheck()
    await page.getByText('whoever opens this address in this browser can use your identity').waitFor()
    assert.equal(await page.getByLabel('Passphrase (at least 8 characters)').count(), 0)
  })
})
