/**
 * Unread at a glance, in Debian's Chromium against real `jiayi start` processes on 127.0.0.1:
 * the Chats tab carries the number of unread messages and the page title says it too, on a
 * phone (tab bar) and a desktop (rail), in English and in 中文; reading the conversation clears
 * both. And the conversation stays quiet and in sight: how a message travelled is in its menu,
 * the menu of the last message opens above the composer, a notice stays on its own screen.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
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

before(async () => {
  ensureWebBuilt()
  ;[alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await cleanup()
})

test('the Chats tab and the page title count unread messages; reading clears them', async () => {
  const { aAtB } = await befriendNodes(alice, bob)

  const phone = await openApp(browser, alice.web, { viewport: { width: 390, height: 800 } })
  const desktop = await openApp(browser, alice.web, { locale: 'zh-CN' })
  try {
    for (const { page } of [phone, desktop]) await page.getByTestId('chat-list').waitFor()
    assert.equal(await phone.page.title(), 'Jiayi')
    assert.equal(await phone.page.getByTestId('unread-total').count(), 0, 'nothing unread, no badge')

    for (const text of ['one', 'two', 'three']) await bob.call('send', { contact: aAtB, text })
    const chatsTab = phone.page.getByRole('navigation').getByRole('link', { name: 'Chats' })
    await chatsTab.getByText('3', { exact: true }).waitFor()
    assert.equal((await chatsTab.textContent())?.includes('3 unread'), true, 'said to screen readers')
    await eventually(async () => (await phone.page.title()) === '(3) Jiayi', 'the English title')
    const zhTab = desktop.page.getByRole('navigation').getByRole('link', { name: '聊天' })
    await zhTab.getByText('3', { exact: true }).waitFor()
    await eventually(async () => (await desktop.page.title()) === '(3) 加一', 'the Chinese title')
    const shots = await outputDir('unread')
    await phone.page.screenshot({ path: join(shots, 'phone-en.png') })
    await desktop.page.screenshot({ path: join(shots, 'desktop-zh.png') })

    // Reading the conversation (on the phone) clears the count everywhere.
    await phone.page.getByTestId('chat-list').getByText('Bob').click()
    await phone.page.getByTestId('messages').getByText('three').waitFor()
    await eventually(async () => (await phone.page.title()) === 'Jiayi', 'the title without a count')
    await eventually(
      async () => (await desktop.page.getByTestId('unread-total').count()) === 0,
      'no badge once read',
    )
    assert.equal(await desktop.page.title(), '加一')

    // The "…" menu of the last message opens in sight, above the composer (phone and desktop).
    for (const text of ['four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve'])
      await bob.call('send', { contact: aAtB, text })
    for (const { page } of [phone, desktop]) {
      if (page === desktop.page) await page.getByTestId('chat-list').getByText('Bob').click()
      const last = page.getByTestId('messages').locator('li', { hasText: 'twelve' }).last()
      await last.waitFor()
      await last.hover()
      await last.getByRole('button', { name: page === phone.page ? 'Message actions' : '消息操作' }).click()
      const menu = page.getByRole('menu')
      await menu.waitFor()
      // How it travelled is a detail of the menu, not a tag on every bubble.
      assert.equal(
        (await menu.locator('.msg-route').textContent())?.trim(),
        page === phone.page ? 'Sent over your local network' : '经由你的局域网发送',
      )
      assert.equal(await page.getByTestId('messages').getByText('LAN', { exact: true }).count(), 0)
      const menuBox = (await menu.boundingBox())!
      const composerBox = (await page.locator('.composer').boundingBox())!
      assert.ok(
        menuBox.y + menuBox.height <= composerBox.y + 1,
        `the menu ends above the composer (${menuBox.y + menuBox.height} <= ${composerBox.y})`,
      )
    }
    await phone.page.screenshot({ path: join(shots, 'phone-menu.png') })

    // A notice belongs to the screen it was shown on: it does not follow the user elsewhere.
    const page = phone.page
    await page.evaluate(() => {
      location.hash = '#/settings'
    })
    await page.getByLabel('Name', { exact: true }).fill('Alice Li')
    await page.getByLabel('Name', { exact: true }).press('Enter')
    await page.getByRole('status').getByText('Name saved').waitFor()
    await page.getByRole('navigation').getByRole('link', { name: 'Chats' }).click()
    await page.getByTestId('chat-list').waitFor()
    await page.getByText('Name saved').waitFor({ state: 'detached', timeout: 1_000 })
  } finally {
    await phone.context.close()
    await desktop.context.close()
  }
})
