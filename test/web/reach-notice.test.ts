/**
 * A browser tab's peer adds a node that listens on TCP only: no address on its card is one a
 * page can dial (WebSockets, WebRTC), so the request can never leave. Instead of "Request sent"
 * forever, the conversation, the contact and the contacts list say why, in English and in 中文
 * (after a reload, which starts the peer again: the first failed attempt says it again).
 * Real `jiayi start` on 127.0.0.1 (it also serves the page) and Debian's Chromium.
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { cleanup, ensureWebBuilt, launchBrowser, NodePeer, openApp, waitOrKeepPage } from './helpers.js'

describe('a browser peer that cannot dial a contact says why', () => {
  let node: NodePeer
  let browser: Browser
  let context: BrowserContext
  let page: Page

  before(async () => {
    ensureWebBuilt()
    // TCP on 127.0.0.1 only (NodePeer's default listen address): nothing a page can dial.
    node = await NodePeer.start('小明')
    browser = await launchBrowser()
    ;({ context, page } = await openApp(browser, `${node.origin}/`))
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await cleanup()
  })

  test('adding a TCP-only node: the reason shows in the conversation, the contact and the list', async () => {
    const card = await node.call<{ link: string; addrs: string[] }>('card')
    assert.ok(
      card.addrs.every((a) => !a.includes('/ws') && !a.includes('/webrtc')),
      card.addrs.join(' '),
    )
    await page.getByRole('button', { name: 'Create a separate identity in this browser' }).click()
    await page.getByRole('textbox', { name: 'Your name' }).fill('Phone')
    await page.getByRole('button', { name: 'Create my identity' }).click()
    await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 60_000 })
    const nav = (name: string) =>
      page.getByRole('navigation').getByRole('link', { name, exact: true }).click()
    await nav('Contacts')
    await page.getByRole('button', { name: 'Add contact' }).click()
    await page.getByRole('textbox', { name: 'Contact link' }).fill(card.link)
    await page.getByRole('button', { name: 'Add', exact: true }).click()

    const reason =
      '小明 can’t be reached from this browser: their peer has no WebSocket or WebRTC address. Jiayi keeps trying.'
    // The list: still "Request sent", and that it cannot be reached.
    await waitOrKeepPage(page, page.getByText('Request sent · Can’t be reached'), 'reach-notice', 'list')
    // The contact.
    await page.getByRole('link', { name: /小明/ }).first().click()
    await page.getByRole('status').filter({ hasText: reason }).waitFor({ timeout: 20_000 })
    // The conversation.
    await page.getByRole('link', { name: 'Send message' }).click()
    await page.getByRole('textbox', { name: 'Message' }).waitFor()
    await page.getByRole('status').filter({ hasText: reason }).waitFor({ timeout: 20_000 })

    // 中文, after a reload (the peer starts again and its first attempt fails again).
    await page.evaluate(() => localStorage.setItem('jiayi.lang', 'zh-CN'))
    await page.reload()
    await page
      .getByRole('status')
      .filter({
        hasText: '无法从这个浏览器联系到 小明：对方的设备没有 WebSocket 或 WebRTC 地址。加一会继续尝试。',
      })
      .waitFor({ timeout: 60_000 })
    // The node never heard of the browser.
    assert.deepEqual(await node.call('contactList'), [])
  })
})
