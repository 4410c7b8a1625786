/**
 * A browser tab's peer adds a node that listens on TCP only: no address on its card is one a
 * page can dial (WebSockets, WebRTC), so the request can never leave. Instead of "Request sent"
 * forever, the conversation, the contact and the contacts list say why, in English and in 中文
 * (after a reload, which starts the peer again: the first failed attempt says it again). The
 * contact's reach line says it is offline, and a message sent meanwhile says what it waits for.
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
    await page.getByText('Offline: messages wait on this device until they are back').waitFor()
    // The conversation.
    await page.getByRole('link', { name: 'Send message' }).click()
    await page.getByRole('textbox', { name: 'Message' }).waitFor()
    await page.getByRole('status').filter({ hasText: reason }).waitFor({ timeout: 20_000 })
    // A message sent now waits, and says for what: in a line, and in its tick's tooltip.
    await page.getByRole('textbox', { name: 'Message' }).fill('are you there?')
    await page.getByRole('button', { name: 'Send', exact: true }).click()
    await page.getByRole('note').filter({ hasText: 'Waiting for 小明 to come online' }).waitFor()
    const tick = page.getByRole('img', { name: 'Queued' })
    assert.equal(await tick.getAttribute('title'), 'Queued: Waiting for 小明 to come online')

    // 中文, after a reload (the peer starts again and its first attempt fails again).
    await page.evaluate(() => localStorage.setItem('jiayi.lang', 'zh-CN'))
    await page.reload()
    await page
      .getByRole('status')
      .filter({
        hasText: '无法从这个浏览器联系到 小明：对方的设备没有 WebSocket 或 WebRTC 地址。加一会继续尝试。',
      })
      .waitFor({ timeout: 60_000 })
    await page.getByRole('note').filter({ hasText: '等待 小明 上线' }).waitFor()
    assert.equal(
      await page.getByRole('img', { name: '排队中' }).getAttribute('title'),
      '排队中：等待 小明 上线',
    )
    await page.getByRole('link', { name: '安全码' }).click()
    await page.getByText('离线：消息在本设备上等待，对方回来时发送').waitFor()
    // The node never heard of the browser.
    assert.deepEqual(await node.call('contactList'), [])
  })
})
