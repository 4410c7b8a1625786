/**
 * Browser notifications (Debian's Chromium, the UI of a real `jiayi start` on 127.0.0.1): off
 * until the user turns them on in Settings; then, while the tab is in the background, a new
 * message shows who wrote and what, a contact request says who asks, and with "hide the text" a
 * notification names only the sender. Nothing is shown while the tab is in front.
 *
 * The page's Notification constructor is wrapped to record each notification (then built as
 * usual): headless Chromium draws no notification anyone could read. And headless Chromium keeps
 * every tab visible, so the test sets what document.visibilityState reports and sends the
 * visibilitychange event a browser sends when the user switches tabs.
 */
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import {
  befriendNodes,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  RECORD_NOTIFICATIONS,
  setHidden,
  shownNotifications as shown,
} from './helpers.js'

let alice: NodePeer
let bob: NodePeer
let browser: Browser
let context: BrowserContext
let page: Page
let aliceAtBob: string

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  ;({ aAtB: aliceAtBob } = await befriendNodes(alice, bob))
  browser = await launchBrowser()
  context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })
  await context.grantPermissions(['notifications'], { origin: alice.origin })
  await context.addInitScript(RECORD_NOTIFICATIONS)
  page = await context.newPage()
  page.on('pageerror', (e) => console.error('page error:', e.message))
  await page.goto(alice.web)
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

const hide = () => setHidden(page, true)
const show = () => setHidden(page, false)

test('off by default: a message to a hidden tab shows nothing', async () => {
  await page.goto(`${alice.origin}/#/settings`)
  const on = page.getByRole('checkbox', { name: /Notify me of new messages/ })
  await on.waitFor({ timeout: 20_000 })
  assert.equal(await on.isChecked(), false)
  await hide()
  await bob.call('send', { contact: aliceAtBob, text: 'before notifications' })
  await eventually(
    async () => (await alice.call<{ text: string }[]>('chats')).length > 0,
    'the message at Alice',
  )
  await new Promise((r) => setTimeout(r, 500))
  assert.deepEqual(await shown(page), [])
  await show()
})

test('turned on: a message while hidden names the sender and its text; none while in front', async () => {
  await page.getByRole('checkbox', { name: /Notify me of new messages/ }).check()
  await show()
  await bob.call('send', { contact: aliceAtBob, text: 'seen in front' })
  await new Promise((r) => setTimeout(r, 500))
  assert.deepEqual(await shown(page), [], 'nothing while the tab is in front')

  await hide()
  await bob.call('send', { contact: aliceAtBob, text: 'The samples ship today 🚚' })
  const got = await eventually(async () => (await shown(page)).at(-1), 'a notification')
  assert.deepEqual(got, { title: 'Bob', body: 'The samples ship today 🚚' })
  await show()
})

test('"hide the text" leaves only who wrote; a request says who asks', async () => {
  await page.getByRole('checkbox', { name: /Hide the message text/ }).check()
  await hide()
  const before = (await shown(page)).length
  await bob.call('send', { contact: aliceAtBob, text: 'secret price 42' })
  const got = await eventually(async () => (await shown(page))[before], 'a notification')
  assert.deepEqual(got, { title: 'Bob', body: 'New message' })
  assert.ok(!JSON.stringify(await shown(page)).includes('secret price'))

  const carol = await NodePeer.start('Carol')
  const card = await alice.call<{ link: string }>('card')
  await carol.call('addContact', { link: card.link })
  const request = await eventually(
    async () => (await shown(page)).find((n) => n.title === 'Contact request'),
    'the request notification',
  )
  assert.equal(request.body, 'Carol wants to add you')
  await show()
})
