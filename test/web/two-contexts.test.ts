/**
 * The scenario end to end, both sides through the UI: one node peer and two browser
 * contexts — the node's UI (the token URL) and an in-browser peer (the same origin without a
 * token). The in-browser peer shows its QR code; the test reads it from a screenshot and adds it
 * in the node's UI; the node's own QR (read the same way) is pasted into the in-browser peer; they
 * chat both ways and each side's ticks reach "Read".
 */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { cleanup, ensureWebBuilt, launchBrowser, NodePeer, openApp, readMyQr } from './helpers.js'

async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name, exact: true }).click()
}

async function addByLink(page: Page, link: string): Promise<void> {
  await nav(page, 'Contacts')
  await page.getByRole('button', { name: 'Add contact' }).click()
  await page.getByRole('textbox', { name: 'Contact link' }).fill(link)
  await page.getByRole('button', { name: 'Add', exact: true }).click()
}

async function openChat(page: Page, name: RegExp): Promise<void> {
  await nav(page, 'Chats')
  await page.getByRole('link', { name }).first().click()
  await page.getByRole('textbox', { name: 'Message' }).waitFor()
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text)
  await page.getByRole('button', { name: 'Send', exact: true }).click()
}

describe("a node's UI and an in-browser peer, side by side", () => {
  let node: NodePeer
  let browser: Browser
  let nodeUi: { context: BrowserContext; page: Page }
  let phone: { context: BrowserContext; page: Page }

  before(async () => {
    ensureWebBuilt()
    node = await NodePeer.start('Shop 小店', [
      '--listen',
      '/ip4/127.0.0.1/tcp/0/ws',
      '--listen',
      '/ip4/127.0.0.1/udp/0/webrtc-direct',
    ])
    browser = await launchBrowser()
    nodeUi = await openApp(browser, node.web)
    phone = await openApp(browser, `${node.origin}/`, { viewport: { width: 375, height: 667 } })
  })
  after(async () => {
    await phone?.context.close()
    await nodeUi?.context.close()
    await browser?.close()
    await cleanup()
  })

  test('QR codes read from screenshots, added on both sides through the UI', async () => {
    await phone.page.getByRole('button', { name: 'Create a separate identity in this browser' }).click()
    await phone.page.getByRole('textbox', { name: 'Your name' }).fill('Phone')
    await phone.page.getByRole('button', { name: 'Create my identity' }).click()
    await phone.page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 30_000 })
    await nav(phone.page, 'Contacts')
    const phoneLink = await readMyQr(phone.page)
    assert.match(phoneLink, /^JIAYI:ADD\//)

    await nodeUi.page.getByRole('heading', { name: 'Chats' }).waitFor()
    await nav(nodeUi.page, 'Contacts')
    const nodeLink = await readMyQr(nodeUi.page)
    assert.match(nodeLink, /^JIAYI:ADD\//)

    await addByLink(nodeUi.page, phoneLink)
    await addByLink(phone.page, nodeLink)
    // Both added each other (swapped codes): no request is left waiting on either side.
    await nodeUi.page.locator('.contacts .row', { hasText: 'Phone' }).waitFor({ timeout: 20_000 })
    await phone.page.locator('.contacts .row', { hasText: 'Shop' }).waitFor({ timeout: 20_000 })
    for (const page of [nodeUi.page, phone.page]) {
      await page.getByText('Request sent').waitFor({ state: 'detached', timeout: 20_000 })
    }
  })

  test('they chat both ways and the ticks reach Read on both sides', async () => {
    await openChat(nodeUi.page, /Phone/)
    await openChat(phone.page, /Shop/)
    await send(nodeUi.page, 'Welcome! 欢迎光临 https://example.com/menu')
    await phone.page.getByTestId('messages').getByText('Welcome! 欢迎光临').waitFor({ timeout: 20_000 })
    await send(phone.page, 'Thanks, two teas please 🍵')
    await nodeUi.page
      .getByTestId('messages')
      .getByText('Thanks, two teas please')
      .waitFor({ timeout: 20_000 })
    // Each side has the conversation open, so each message is read as it arrives.
    for (const page of [nodeUi.page, phone.page]) {
      await page
        .getByTestId('messages')
        .locator('li.msg.out')
        .last()
        .getByRole('img', { name: 'Read' })
        .waitFor({ timeout: 20_000 })
    }
  })

  test('a new name set in Settings reaches the other side', async () => {
    await nav(nodeUi.page, 'Settings')
    const field = nodeUi.page.getByLabel('Name', { exact: true })
    await field.fill('Shop 新店名')
    await nodeUi.page.getByRole('button', { name: 'Save name' }).click()
    await nodeUi.page.getByText('Name saved').waitFor()
    // On a phone-sized screen an open conversation hides the navigation: go by address.
    await phone.page.evaluate(() => {
      location.hash = '#/contacts'
    })
    await phone.page.locator('.contacts .row', { hasText: 'Shop 新店名' }).waitFor({ timeout: 20_000 })
  })
})
