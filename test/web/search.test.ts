/**
 * Search in the web app (Debian's Chromium, the UI of a real `jiayi start` on 127.0.0.1): typing
 * in the Chats screen's search box lists the messages with every word, marked; choosing one
 * opens its conversation scrolled to it and highlighted, even when it is older than the first page;
 * a Moments post opens Moments at it. Contacts are found by name; in 中文 the box is 搜索.
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
  openApp,
} from './helpers.js'

let alice: NodePeer
let bob: NodePeer
let browser: Browser
let context: BrowserContext
let page: Page
let aliceAtBob: string
let bobAtAlice: string

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  ;({ bAtA: bobAtAlice, aAtB: aliceAtBob } = await befriendNodes(alice, bob))
  await bob.call('send', { contact: aliceAtBob, text: 'The jasmine 茉莉花茶 samples ship on Friday' })
  // More than the conversation's first page (100) came after it.
  for (let i = 0; i < 150; i++)
    await bob.call('send', { contact: aliceAtBob, text: `Order update number ${i}` })
  await eventually(
    async () =>
      (await alice.call<unknown[]>('messages', { contact: bobAtAlice, peek: true, limit: 200 })).length ===
      151,
    'the messages at Alice',
  )
  const post = await bob.call<{ id: string }>('post', { text: 'Spring 龙井 harvest is in' })
  await eventually(
    async () => (await alice.call<{ id: string }[]>('timeline', {})).some((p) => p.id === post.id),
    "Bob's post at Alice",
  )
  browser = await launchBrowser()
  ;({ context, page } = await openApp(browser, alice.web, { viewport: { width: 1280, height: 700 } }))
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

test('a search hit opens its conversation scrolled to the message, highlighted, older pages loaded to it', async () => {
  const box = page.getByRole('searchbox', { name: 'Search' })
  await box.waitFor({ timeout: 20_000 })
  await box.fill('茉莉 samples')
  const results = page.getByRole('list', { name: 'Search results' })
  const hit = results.getByRole('button', { name: /jasmine/ })
  await hit.waitFor({ timeout: 15_000 })
  assert.equal(await results.getByRole('button').count(), 1, 'only the message with both words')
  assert.deepEqual(await hit.locator('mark').allTextContents(), ['茉莉', 'samples'])
  await hit.click()
  const found = page.locator('li.msg.found', { hasText: 'The jasmine 茉莉花茶 samples ship on Friday' })
  await found.waitFor({ timeout: 15_000 })
  assert.ok(await found.isVisible())
  const inView = await found.evaluate((el) => {
    const r = el.getBoundingClientRect()
    const list = el.closest('.messages')!.getBoundingClientRect()
    return r.top >= list.top && r.bottom <= list.bottom
  })
  assert.ok(inView, 'scrolled into view, not left at the bottom of the conversation')
})

test('a Moments hit opens Moments at its post, highlighted', async () => {
  await page.goto(`${alice.origin}/#/chats`)
  await page.getByRole('searchbox', { name: 'Search' }).fill('龙井')
  const hit = page
    .getByRole('list', { name: 'Search results' })
    .getByRole('button', { name: /Moments · Spring/ })
  await hit.waitFor({ timeout: 15_000 })
  await hit.click()
  await page.locator('li.post.found', { hasText: 'Spring 龙井 harvest is in' }).waitFor({ timeout: 15_000 })
  assert.match(page.url(), /#\/moments$/)
})

test('contacts are found by name; nothing found says so; in 中文 the box is 搜索', async () => {
  await page.goto(`${alice.origin}/#/chats`)
  const box = page.getByRole('searchbox', { name: 'Search' })
  await box.fill('Bob')
  await page
    .getByRole('list', { name: 'Search results' })
    .getByRole('button', { name: /Bob.*Contact/ })
    .waitFor()
  await box.fill('nothing like this')
  await page.getByText('Nothing found.').waitFor()
  const zh = await openApp(browser, alice.web, { viewport: { width: 375, height: 667 }, locale: 'zh-CN' })
  try {
    await zh.page.getByRole('searchbox', { name: '搜索' }).fill('发货')
    await zh.page.getByText('没有找到。').waitFor({ timeout: 15_000 })
  } finally {
    await zh.context.close()
  }
})
