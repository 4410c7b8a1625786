/**
 * The same app opened without a token from a node's web server: a full peer in the page
 * (apps/web/src/peer, loaded lazily) behind the same screens. Onboarding creates an identity;
 * the page shows its QR code, which the test reads from a screenshot and adds on the node; the
 * page accepts the request; they chat both ways until the ticks read "Read"; a reload keeps it
 * all (IndexedDB). Also: the node's UI never loads the in-page peer's code.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  RECORD_NOTIFICATIONS,
  readMyQr,
  setHidden,
  shownNotifications,
} from './helpers.js'

interface Contact {
  id: string
  name: string
  state: string
}
interface Message {
  id: string
  text: string
  status: string
  direction: string
}

describe('the app as a full peer in the page', () => {
  let node: NodePeer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let phoneAtNode: Contact

  before(async () => {
    ensureWebBuilt()
    node = await NodePeer.start('Node', [
      '--listen',
      '/ip4/127.0.0.1/tcp/0/ws',
      '--listen',
      '/ip4/127.0.0.1/udp/0/webrtc-direct',
    ])
    browser = await launchBrowser()
    ;({ context, page } = await openApp(browser, `${node.origin}/`, {
      viewport: { width: 375, height: 667 },
    }))
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await cleanup()
  })

  test('the node’s address without its token points to the printed address before offering an identity', async () => {
    await page.getByRole('heading', { name: 'This is your node’s web app' }).waitFor({ timeout: 30_000 })
    await page.getByText('open the address that `jiayi start` printed').waitFor()
    assert.equal(await page.getByRole('button', { name: 'Create my identity' }).count(), 0)
    await page.getByRole('button', { name: 'Create a separate identity in this browser' }).click()
  })

  test('onboarding creates an identity; the QR code on screen adds it on the node; the page accepts', async () => {
    await page.getByRole('textbox', { name: 'Your name' }).fill('Phone')
    await page.getByRole('button', { name: 'Create my identity' }).click()
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })
    await page.getByRole('navigation').getByRole('link', { name: 'Contacts', exact: true }).click()
    const link = await readMyQr(page)
    assert.match(link, /^JIAYI:ADD\//i)
    const added = await node.call<Contact>('addContact', { link })
    assert.equal(added.name, 'Phone')
    await page.getByText('Node wants to add you').waitFor({ timeout: 20_000 })
    await page.getByRole('button', { name: 'Accept', exact: true }).click()
    phoneAtNode = await eventually(
      async () => (await node.call<Contact[]>('contactList')).find((c) => c.state === 'accepted'),
      'accepted at the node',
    )
  })

  test('they chat both ways; ticks reach read on both sides', async () => {
    await page.getByRole('textbox', { name: 'Message' }).waitFor()
    await page.getByRole('textbox', { name: 'Message' }).fill('Hello from the browser')
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    const sent = await eventually(
      async () =>
        (await node.call<Message[]>('messages', { contact: phoneAtNode.id, peek: true })).find(
          (m) => m.text === 'Hello from the browser',
        ),
      'the message at the node',
    )
    await node.call('messages', { contact: phoneAtNode.id })
    await page
      .locator(`li.msg[data-id="${sent.id}"]`)
      .getByRole('img', { name: 'Read' })
      .waitFor({ timeout: 20_000 })
    const reply = await node.call<Message>('send', { contact: phoneAtNode.id, text: 'Hello from the node' })
    await page.getByTestId('messages').getByText('Hello from the node').waitFor()
    await eventually(
      async () =>
        (await node.call<Message[]>('messages', { contact: phoneAtNode.id, peek: true })).find(
          (m) => m.id === reply.id && m.status === 'read',
        ),
      "the node's tick reaching read",
    )
  })

  test('a reload keeps the identity, the contact and the chat', async () => {
    await page.goto(`${node.origin}/#/chats`)
    await page.reload()
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })
    const row = page.locator('[data-testid=chat-list] .row', { hasText: 'Node' })
    await row.getByText('Hello from the node').waitFor({ timeout: 20_000 })
  })

  test('the in-page peer notifies too, once turned on, while the tab is hidden', async () => {
    await context.grantPermissions(['notifications'], { origin: node.origin })
    await context.addInitScript(RECORD_NOTIFICATIONS)
    await page.goto(`${node.origin}/#/settings`)
    await page.reload()
    const on = page.getByRole('checkbox', { name: /Notify me of new messages/ })
    await on.waitFor({ timeout: 30_000 })
    await on.check()
    await setHidden(page, true)
    await node.call('send', { contact: phoneAtNode.id, text: 'Your order shipped' })
    const got = await eventually(async () => (await shownNotifications(page))[0], 'a notification')
    assert.deepEqual(got, { title: 'Node', body: 'Your order shipped' })
    await setHidden(page, false)
  })

  test("the node's UI (token URL) never loads the in-page peer's code", async () => {
    const other = await openApp(browser, node.web)
    const scripts: string[] = []
    other.page.on('request', (r) => {
      if (r.resourceType() === 'script') scripts.push(new URL(r.url()).pathname)
    })
    await other.page.reload()
    await other.page.getByRole('heading', { name: 'Chats' }).waitFor()
    await other.page.locator('[data-testid=chat-list] .row').first().waitFor()
    assert.ok(scripts.length > 0)
    assert.deepEqual(
      scripts.filter((s) => /peer/i.test(s)),
      [],
      `scripts: ${scripts.join(', ')}`,
    )
    await other.context.close()
  })
})
