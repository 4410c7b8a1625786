/**
 * Managing contacts in the web app (Debian's Chromium, the UI of real `jiayi start` peers on
 * 127.0.0.1): a private remark (备注) shown instead of the contact's name and found by the
 * contacts search; adding someone from a picture of their QR code (a saved screenshot); labels
 * (标签) on a contact's page and a broadcast (群发) to a label; and removing a contact, which the
 * node itself then no longer has.
 */
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import QRCode from 'qrcode'
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

interface Contact {
  id: string
  name: string
  remark?: string
  state: string
}

let alice: NodePeer
let bob: NodePeer
let carol: NodePeer
let browser: Browser
let context: BrowserContext
let page: Page
let bobAtAlice: string

before(async () => {
  ensureWebBuilt()
  ;[alice, bob, carol] = await Promise.all([
    NodePeer.start('Alice'),
    NodePeer.start('王建国 Bob'),
    NodePeer.start('Carol'),
  ])
  ;({ bAtA: bobAtAlice } = await befriendNodes(alice, bob))
  browser = await launchBrowser()
  ;({ context, page } = await openApp(browser, alice.web))
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

test('a remark is shown instead of the name, everywhere, and the contacts search finds it', async () => {
  await page.goto(`${alice.origin}/#/contact/${bobAtAlice}`)
  const remark = page.getByLabel('Remark', { exact: true })
  await remark.fill('老王 supplier')
  await page.getByRole('button', { name: 'Save remark' }).click()
  await page.getByRole('heading', { level: 1, name: '老王 supplier' }).waitFor({ timeout: 15_000 })
  await page.getByText('Name on their card: 王建国 Bob').waitFor()
  const atNode = (await alice.call<Contact[]>('contactList')).find((c) => c.id === bobAtAlice)
  assert.equal(atNode?.remark, '老王 supplier', 'the node keeps the remark')
  assert.equal(atNode?.name, '王建国 Bob')

  await page.goto(`${alice.origin}/#/contacts`)
  const list = page.getByRole('region', { name: 'My contacts' })
  await list.getByText('老王 supplier').waitFor({ timeout: 15_000 })
  await befriendNodes(alice, carol)
  const search = page.getByRole('searchbox', { name: 'Search contacts' })
  await search.waitFor({ timeout: 15_000 })
  await search.fill('supp')
  await list.getByText('老王 supplier').waitFor()
  await eventually(async () => (await list.getByText('Carol').count()) === 0, 'Carol filtered out')
  await search.fill('王建国')
  await list.getByText('老王 supplier').waitFor()
  await search.fill('nobody here')
  await list.getByText('No contact matches.').waitFor()
  await search.fill('')

  await bob.call('send', { contact: (await bob.call<Contact[]>('contactList'))[0]!.id, text: '到货了' })
  await page.goto(`${alice.origin}/#/chats`)
  await page.getByRole('link', { name: /老王 supplier/ }).waitFor({ timeout: 20_000 })
  await page.goto(`${alice.origin}/#/chat/${bobAtAlice}`)
  await page.getByRole('heading', { level: 1, name: '老王 supplier' }).waitFor({ timeout: 20_000 })
})

test('in Chinese at phone size, the remark field is 备注', async () => {
  const zh = await openApp(browser, `${alice.web}`, {
    viewport: { width: 375, height: 667 },
    locale: 'zh-CN',
  })
  try {
    await zh.page.goto(`${alice.origin}/#/contact/${bobAtAlice}`)
    const field = zh.page.getByLabel('备注', { exact: true })
    await field.waitFor({ timeout: 20_000 })
    assert.equal(await field.inputValue(), '老王 supplier')
    await zh.page.getByRole('button', { name: '删除联系人' }).waitFor()
    await zh.page.getByRole('region', { name: '标签' }).getByRole('button', { name: '添加标签' }).waitFor()
    const dir = await outputDir('contacts-manage')
    await zh.page.screenshot({ path: join(dir, 'remark-zh-phone.png') })
  } finally {
    await zh.context.close()
  }
})

test('a picture of a QR code adds its person; a picture without one says so', async () => {
  const dir = await outputDir('contacts-manage')
  const dave = await NodePeer.start('Dave')
  const card = await dave.call<{ qr: string }>('card')
  // A "screenshot": the card's QR code on a larger white page, off centre.
  const qr = PNG.sync.read(await QRCode.toBuffer(card.qr, { margin: 2, width: 360 }))
  const shot = new PNG({ width: 720, height: 1280 })
  shot.data.fill(255)
  PNG.bitblt(qr, shot, 0, 0, qr.width, qr.height, 120, 400)
  const withQr = join(dir, 'screenshot-with-qr.png')
  const blank = join(dir, 'screenshot-blank.png')
  await writeFile(withQr, PNG.sync.write(shot))
  shot.data.fill(255)
  await writeFile(blank, PNG.sync.write(shot))

  await page.goto(`${alice.origin}/#/contacts`)
  await page.getByRole('button', { name: 'Add contact' }).click()
  await page.getByLabel('Scan from an image').setInputFiles(blank)
  await page.getByText('No QR code was found in that picture.').waitFor({ timeout: 15_000 })

  await page.getByLabel('Scan from an image').setInputFiles(withQr)
  await page.getByText('Dave added. They will see your request.').waitFor({ timeout: 20_000 })
  await eventually(
    async () => (await alice.call<Contact[]>('contactList')).find((c) => c.name === 'Dave'),
    'Dave at the node',
  )
  await eventually(
    async () =>
      (await dave.call<Contact[]>('contactList')).find((c) => c.name === 'Alice' && c.state === 'pending-in'),
    'the request at Dave',
  )
})

test('labels from contact pages; a broadcast to a label reaches each accepted contact alone', async () => {
  const contacts = await alice.call<Contact[]>('contactList')
  const carolId = contacts.find((c) => c.name === 'Carol')!.id
  const daveId = contacts.find((c) => c.name === 'Dave')!.id
  const labelOn = async (id: string, typed: string) => {
    await page.goto(`${alice.origin}/#/contact/${id}`)
    const card = page.getByRole('region', { name: 'Labels' })
    await card.getByLabel('New label').fill(typed)
    await card.getByRole('button', { name: 'Add label' }).click()
    // Typed in another case, it is the label already in use.
    await card.getByRole('button', { name: 'Remove label VIP 客户' }).waitFor({ timeout: 15_000 })
  }
  await labelOn(bobAtAlice, 'VIP 客户')
  await labelOn(carolId, 'vip 客户')
  await page
    .getByRole('region', { name: 'Labels' })
    .screenshot({ path: join(await outputDir('contacts-manage'), 'contact-labels.png') })
  await page.getByRole('region', { name: 'Labels' }).getByRole('button', { name: 'Add label' }).click()
  await page.getByText('Give the label a name.').waitFor({ timeout: 15_000 })
  // Dave has not accepted Alice's request: labelled, but a broadcast skips him.
  await alice.call('addLabel', { label: 'VIP 客户', contacts: [daveId] })

  await page.goto(`${alice.origin}/#/contacts`)
  await page.getByRole('link', { name: 'Labels' }).click()
  await page.getByRole('heading', { level: 1, name: 'Labels' }).waitFor({ timeout: 15_000 })
  const group = page.getByRole('region', { name: 'VIP 客户' })
  await group.getByText('Dave').waitFor({ timeout: 15_000 })
  await group.getByText('老王 supplier').waitFor()
  await group.getByText('not accepted yet').waitFor()

  const form = page.getByRole('form', { name: 'Broadcast' })
  await form.getByLabel('Label').selectOption('VIP 客户')
  await form.getByLabel('Message').fill('新品到货 New arrivals 🍵')
  await form.getByRole('button', { name: 'Send to all' }).click()
  await form
    .getByRole('status')
    .getByText('Sent to 2. Not sent to Dave: they have not accepted yet.')
    .waitFor({ timeout: 15_000 })
  await page.screenshot({ path: join(await outputDir('contacts-manage'), 'labels-broadcast.png') })
  for (const peer of [bob, carol]) {
    const [aliceThere] = await peer.call<Contact[]>('contactList')
    await eventually(
      async () =>
        (await peer.call<{ text: string }[]>('messages', { contact: aliceThere!.id, peek: true })).some(
          (m) => m.text === '新品到货 New arrivals 🍵',
        ),
      `the broadcast at ${peer === bob ? 'Bob' : 'Carol'}`,
    )
  }

  // A file goes the same way: one offer per accepted contact.
  const prices = join(await outputDir('contacts-manage'), 'prices.txt')
  await writeFile(prices, '价目表 price list\n'.repeat(100))
  await form.getByLabel('Attach a file').setInputFiles(prices)
  await form.getByRole('button', { name: 'Remove prices.txt' }).waitFor()
  await form.getByRole('button', { name: 'Send to all' }).click()
  await form
    .getByRole('button', { name: 'Remove prices.txt' })
    .waitFor({ state: 'detached', timeout: 15_000 })
  await form.getByRole('status').getByText('Sent to 2.').waitFor({ timeout: 15_000 })
  for (const peer of [bob, carol])
    await eventually(
      async () =>
        (await peer.call<{ name: string; direction: string }[]>('transfers')).some(
          (x) => x.name === 'prices.txt' && x.direction === 'in',
        ),
      'the file offer',
    )
})

test('Remove contact asks first, then the node no longer has them', async () => {
  await page.goto(`${alice.origin}/#/contact/${bobAtAlice}`)
  const dialogs: string[] = []
  page.on('dialog', (d) => dialogs.push(d.message()))
  await page.getByRole('button', { name: 'Remove contact' }).click()
  await page.getByRole('heading', { level: 1, name: 'Contacts' }).waitFor({ timeout: 15_000 })
  assert.match(dialogs[0] ?? '', /^Remove 老王 supplier\? Your chat history with them is deleted too/)
  await eventually(
    async () => (await alice.call<Contact[]>('contactList')).every((c) => c.id !== bobAtAlice),
    'Bob gone at the node',
  )
  const list = page.getByRole('region', { name: 'My contacts' })
  await list.getByText('Carol').waitFor({ timeout: 15_000 })
  // The list reads the contacts again on the removal's event, a moment after the node answered.
  await eventually(
    async () => (await list.getByText('老王 supplier').count()) === 0,
    'Bob gone from the list',
  )
})
