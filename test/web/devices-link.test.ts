/**
 * Linking a device from the web app as the UI of a node, in real Chromium: Settings "Link a
 * device" shows a one-time link as a QR (decoded here from a screenshot) and as text; a separate
 * `jiayi init --link` process joins with the QR's text; the page asks for the code the new device
 * shows, a wrong one ends the link clearly, the right one on a new link links both; the page
 * lists both devices and removes the new one, in 中文. Then a tab's own peer (the same node's page
 * without its token) links itself with "Link to an existing device", the code it shows typed on
 * the node.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { cleanup as cleanupCli, LineProcess, tempHome } from '../../apps/node/test/helpers/cli.js'
import {
  befriendNodes,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  screenshotQr,
} from './helpers.js'

interface DeviceView {
  readonly id: string
  readonly name: string
  readonly current: boolean
}

let ann: NodePeer
let bob: NodePeer
let bobAtAnn = ''
let annAtBob = ''
let browser: Browser
let context: BrowserContext
let page: Page

before(async () => {
  ensureWebBuilt()
  // WebSockets too: a tab dials nothing else.
  ;[ann, bob, browser] = await Promise.all([
    NodePeer.start('Ann', ['--listen', '/ip4/127.0.0.1/tcp/0/ws']),
    NodePeer.start('Bob', ['--listen', '/ip4/127.0.0.1/tcp/0/ws']),
    launchBrowser(),
  ])
  ;({ bAtA: bobAtAnn, aAtB: annAtBob } = await befriendNodes(ann, bob))
  await ann.call('send', { contact: bobAtAnn, text: 'before the link' })
  ;({ context, page } = await openApp(browser, ann.web))
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanupCli()
  await cleanup()
})

/** Clicks "Link a device" and reads the link from the QR on the screen (and checks the text). */
async function offer(): Promise<string> {
  await page.getByRole('button', { name: 'Link a device' }).click()
  const qr = page.getByRole('img', { name: 'Device link QR code' })
  await qr.waitFor()
  await page.locator('img.qr[alt="Device link QR code"]').waitFor()
  const { text } = await screenshotQr(page.locator('img.qr[alt="Device link QR code"]'))
  const shown = await page.getByTestId('device-link').textContent()
  assert.equal(text, shown?.toUpperCase(), 'the QR holds the link shown as text')
  assert.match((await page.getByTestId('device-link-expiry').textContent()) ?? '', /Works once, until/)
  return text
}

test('link a device from Settings: QR, code, linked, listed, removed (in 中文)', {
  timeout: 120_000,
}, async () => {
  // The app settles on Chats first (it drops the token from the address): then Settings.
  await page.getByRole('heading', { name: 'Chats' }).waitFor()
  await page.getByRole('navigation').getByRole('link', { name: 'Settings', exact: true }).click()
  await page.getByRole('heading', { name: 'My devices' }).waitFor()
  await eventually(async () => (await page.getByTestId('device').count()) === 1, 'the page lists this device')

  // A wrong code: the link ends on both sides, said clearly.
  const wrongHome = await tempHome()
  const wrong = new LineProcess(wrongHome, ['init', '--link', await offer(), '--name', 'Phone'])
  const wrongCode = String((await wrong.waitFor((x) => x.event === 'code')).code)
  const code = page.getByRole('textbox', { name: 'Code shown on the new device' })
  await code.fill(wrongCode === '000000' ? '111111' : '000000')
  await page.getByRole('button', { name: 'Confirm' }).click()
  await page
    .getByTestId('link-status')
    .filter({ hasText: 'Linking failed: The code did not match' })
    .waitFor()
  const alert = page.getByRole('alert').filter({ hasText: 'The code did not match' })
  await alert.waitFor()
  // The notice would lie over the next QR code.
  await alert.getByRole('button', { name: 'Dismiss' }).click()
  assert.equal(await wrong.exited, 1, 'the new device is refused')
  assert.equal((await ann.call<DeviceView[]>('devices')).length, 1, 'nothing was linked')

  // The right code on a new link.
  const home = await tempHome()
  const phone = new LineProcess(home, ['init', '--link', await offer(), '--name', 'Phone'])
  const shown = String((await phone.waitFor((x) => x.event === 'code')).code)
  await code.fill(shown)
  await page.getByRole('button', { name: 'Confirm' }).click()
  await page.getByTestId('link-status').filter({ hasText: 'Phone is linked' }).waitFor({ timeout: 30_000 })
  assert.equal(await phone.exited, 0, phone.stderr)
  await eventually(
    async () => (await page.getByTestId('device').count()) === 2,
    'the page lists both devices',
  )
  const devices = await ann.call<DeviceView[]>('devices')
  assert.equal(devices.length, 2)
  assert.ok(devices.some((d) => d.name === 'Phone' && !d.current))

  // In 中文: the labels are translated; Remove takes the phone off the list.
  await page.getByLabel('Language').selectOption('zh-CN')
  await page.getByRole('heading', { name: '我的设备' }).waitFor()
  await page.getByRole('button', { name: '关联新设备' }).waitFor()
  await page.getByRole('button', { name: '移除 Phone' }).click()
  await eventually(
    async () => (await page.getByTestId('device').count()) === 1,
    'the phone is gone from the page',
  )
  assert.equal((await ann.call<DeviceView[]>('devices')).length, 1)
})

test('a tab links itself to the node: the link from its QR, the code the tab shows typed on the node', {
  timeout: 120_000,
}, async () => {
  const tab = await openApp(browser, `${ann.origin}/`)
  try {
    await tab.page.getByRole('button', { name: 'Create a separate identity in this browser' }).click()
    // The link as the node's page shows it: read from the QR on its screen.
    // "Phone removed" from the case before would cover the QR: leaving Settings clears notices.
    await page.getByLabel('语言').selectOption('en')
    const nav = page.getByRole('navigation')
    await nav.getByRole('link', { name: 'Chats', exact: true }).click()
    await nav.getByRole('link', { name: 'Settings', exact: true }).click()
    await page.getByRole('heading', { name: 'My devices' }).waitFor()
    await eventually(
      async () => (await page.locator('.notices .notice').count()) === 0,
      'no notice over the card',
    )
    const link = await offer()
    await tab.page.getByRole('textbox', { name: 'Device link' }).fill(link)
    await tab.page.getByRole('button', { name: 'Link', exact: true }).click()
    const shown = await tab.page.getByTestId('link-code').textContent()
    const code = /(\d{6})/.exec(shown ?? '')?.[1]
    assert.ok(code, `the tab shows a code: ${shown}`)
    // Typed on the node's page, as a person would.
    await page.getByRole('textbox', { name: 'Code shown on the new device' }).fill(code)
    await page.getByRole('button', { name: 'Confirm' }).click()
    // Linked: the tab runs as Ann's device and lists both.
    await tab.page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })
    const devices = await ann.call<DeviceView[]>('devices')
    assert.equal(devices.length, 2)
    assert.ok(devices.some((d) => d.name === 'Browser' && !d.current))
    // The tab is Ann: her name, handed over with the identity.
    await tab.page.getByRole('navigation').getByRole('link', { name: 'Settings', exact: true }).click()
    await eventually(async () => (await tab.page.locator('#name').inputValue()) === 'Ann', 'the tab is Ann')

    // A full device: history from before the link is there, Bob's message reaches the tab, and
    // the tab's reply reaches Bob and shows as sent on the node.
    type Shown = { text: string; direction: 'in' | 'out' }
    const has = async (peer: NodePeer, contact: string, text: string, direction: 'in' | 'out') =>
      (await peer.call<Shown[]>('messages', { contact, peek: true })).some(
        (m) => m.text === text && m.direction === direction,
      )
    await tab.page.getByRole('navigation').getByRole('link', { name: 'Chats', exact: true }).click()
    await tab.page.getByRole('link', { name: /Bob/ }).first().click()
    const messages = tab.page.getByTestId('messages')
    await messages.getByText('before the link').waitFor({ timeout: 30_000 })
    await bob.call('send', { contact: annAtBob, text: 'to the tab too' })
    await messages.getByText('to the tab too').waitFor({ timeout: 30_000 })
    await eventually(() => has(ann, bobAtAnn, 'to the tab too', 'in'), 'on the node too', 30_000)
    await tab.page.getByRole('textbox', { name: 'Message' }).fill('from Ann’s tab 浏览器')
    await tab.page.getByRole('button', { name: 'Send', exact: true }).click()
    await eventually(() => has(bob, annAtBob, 'from Ann’s tab 浏览器', 'in'), 'at Bob', 30_000)
    await eventually(() => has(ann, bobAtAnn, 'from Ann’s tab 浏览器', 'out'), 'as sent on the node', 30_000)
  } finally {
    await tab.context.close()
  }
})
