/**
 * Group chats (群聊) in the web app, in Debian's Chromium against real `jiayi start` processes on
 * 127.0.0.1: Alice's page starts a group with Bob and Carol (who are no contacts of each other)
 * and writes in it; Bob answers from his node and his words show under his name; a picture
 * attached in the group reaches Bob's node whole and shows as a picture; the chats list
 * counts Carol's message unread until the group is opened; and on a phone in 中文 the member
 * list shows the roles (群主, 管理员) and the owner makes Bob an admin, which his node learns, a
 * refused rename says why in Chinese, and 发起群聊 opens the new group's form. Replies: Alice
 * answers Bob from a bubble's menu and Bob answers her from his node, each quoted at the other
 * side; the owner turns on "only admins can post", and Carol's page shows the line that
 * replaces her composer while her node's send is refused.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { PNG } from 'pngjs'
import {
  befriendNodes,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  outputDir,
  sha256,
} from './helpers.js'

interface Group {
  id: string
  name: string
  members: { id: string; name: string; role: string }[]
}

let alice: NodePeer
let bob: NodePeer
let carol: NodePeer
let browser: Browser
let context: BrowserContext
let page: Page
let groupId: string

before(async () => {
  ensureWebBuilt()
  ;[alice, bob, carol] = await Promise.all([
    NodePeer.start('Alice'),
    NodePeer.start('Bob'),
    NodePeer.start('Carol'),
  ])
  await Promise.all([befriendNodes(alice, bob), befriendNodes(alice, carol)])
  browser = await launchBrowser()
  ;({ context, page } = await openApp(browser, alice.web))
})

after(async () => {
  await context?.close()
  await browser?.close()
  await cleanup()
})

test('a group made in the page: messages with their senders, live, and unread in the list', async () => {
  await page.getByRole('link', { name: 'New group' }).click()
  await page.getByLabel('Group name').fill('茶叶 Tea')
  await page.getByRole('checkbox', { name: 'Bob' }).check()
  await page.getByRole('checkbox', { name: 'Carol' }).check()
  await page.getByRole('status').getByText('2 contacts chosen').waitFor()
  await page.screenshot({ path: join(await outputDir('groups'), 'new-group-en.png') })
  await page.getByRole('button', { name: 'Create group' }).click()
  await page.getByRole('heading', { level: 1, name: '茶叶 Tea' }).waitFor({ timeout: 15_000 })
  groupId = /#\/group\/([0-9a-f]+)$/.exec(page.url())![1]!
  await page.getByText('3 members').first().waitFor()

  await page.getByLabel('Message').fill('新茶到了 new tea is in')
  await page.getByRole('button', { name: 'Send' }).click()
  const messages = page.getByTestId('group-messages')
  await messages.getByText('新茶到了 new tea is in').waitFor({ timeout: 15_000 })

  // Bob answers from his node once the group and Alice's message have reached him.
  await eventually(
    async () =>
      (await bob.call<{ text: string }[]>('groupMessages', { group: groupId, peek: true })).some(
        (m) => m.text === '新茶到了 new tea is in',
      ),
    'the group and its message at Bob',
  )
  await bob.call('send', { contact: groupId, text: 'Two boxes for me' })
  const answer = messages.locator('li', { hasText: 'Two boxes for me' })
  await answer.waitFor({ timeout: 15_000 })
  assert.equal(await answer.locator('.msg-sender').textContent(), 'Bob', 'his name above his bubble')
  assert.match((await answer.getAttribute('class')) ?? '', /\bin\b/)
  // Alice reacts to Bob's message from its menu, as in a 1:1 chat; his node has it.
  await answer.getByRole('button', { name: 'Message actions' }).click()
  await answer.getByRole('menuitem', { name: '❤️' }).click()
  await answer.getByRole('button', { name: /❤️ from Alice — Remove reaction/ }).waitFor({ timeout: 15_000 })
  await eventually(
    async () =>
      (
        await bob.call<{ text: string; reactions?: { theirs?: string } }[]>('groupMessages', {
          group: groupId,
          peek: true,
        })
      ).some((m) => m.text === 'Two boxes for me' && m.reactions?.theirs === '❤️'),
    "Alice's reaction at Bob",
  )
  // Alice replies to Bob from the menu: the reply bar (Escape cancels it), then the quote.
  await answer.getByRole('button', { name: 'Message actions' }).click()
  await answer.getByRole('menuitem', { name: 'Reply' }).click()
  const bar = page.locator('.composer-context').filter({ hasText: 'Replying to Bob' })
  await bar.getByText('Two boxes for me').waitFor()
  const box = page.getByRole('textbox', { name: 'Message' })
  await box.press('Escape')
  await bar.waitFor({ state: 'detached' })
  await answer.getByRole('button', { name: 'Message actions' }).click()
  await answer.getByRole('menuitem', { name: 'Reply' }).click()
  await box.fill('Two boxes it is')
  await page.getByRole('button', { name: 'Send' }).click()
  await bar.waitFor({ state: 'detached' })
  const reply = messages.locator('li', { hasText: 'Two boxes it is' })
  await reply.locator('.quote', { hasText: 'Bob' }).getByText('Two boxes for me').waitFor({ timeout: 15_000 })
  const bobsView = await eventually(async () => {
    const all = await bob.call<{ id: string; text: string; replyTo?: string }[]>('groupMessages', {
      group: groupId,
      peek: true,
    })
    const r = all.find((m) => m.text === 'Two boxes it is')
    return r === undefined ? undefined : { r, quoted: all.find((m) => m.id === r.replyTo) }
  }, "Alice's reply at Bob")
  assert.equal(bobsView.quoted?.text, 'Two boxes for me', 'the reply names the message it answers')
  const mine = messages.locator('li', { hasText: '新茶到了 new tea is in' })
  assert.match((await mine.getAttribute('class')) ?? '', /\bout\b/, 'ours on the right')
  // Bob replies to Alice from his node: her page quotes her own message as "You".
  const first = (
    await bob.call<{ id: string; text: string }[]>('groupMessages', { group: groupId, peek: true })
  ).find((m) => m.text === '新茶到了 new tea is in')!
  await bob.call('send', { contact: groupId, text: 'Which tea?', replyTo: first.id })
  await messages
    .locator('li', { hasText: 'Which tea?' })
    .locator('.quote', { hasText: 'You' })
    .getByText('新茶到了 new tea is in')
    .waitFor({ timeout: 15_000 })
  await mine.getByText('delivered to 2 of 2').waitFor({ timeout: 15_000 })
  // Bob reads the group (markRead takes a group) and reacts from his node; the page shows both.
  const ours = (
    await alice.call<{ id: string; text: string }[]>('groupMessages', { group: groupId, peek: true })
  ).find((m) => m.text === '新茶到了 new tea is in')!
  await bob.call('markRead', { contact: groupId })
  await bob.call('react', { contact: groupId, messageId: ours.id, emoji: '👍' })
  await mine.getByRole('img', { name: '👍 from Bob' }).waitFor({ timeout: 15_000 })
  await mine.getByText('read by 1').waitFor({ timeout: 15_000 })
  await mine.getByRole('button', { name: 'delivered to 2 of 2, read by 1 — show who' }).click()
  const who = mine.getByRole('region', { name: 'Who has it' })
  assert.deepEqual((await who.getByRole('listitem').allTextContents()).sort(), ['Bob', 'Bob', 'Carol'])
  const row = page.getByTestId('chat-list').getByRole('link', { name: /茶叶 Tea/ })
  await row.getByText('Bob: Which tea?').waitFor({ timeout: 15_000 })

  // A picture by the paperclip: offered to the group, fetched by Bob's node from Alice's.
  const png = new PNG({ width: 64, height: 48 })
  png.data.fill(180)
  const picture = PNG.sync.write(png)
  await page
    .locator('.composer input[type=file]')
    .setInputFiles({ name: 'tea.png', mimeType: 'image/png', buffer: picture })
  await messages.getByRole('img', { name: 'tea.png' }).waitFor({ timeout: 15_000 })
  const atBob = await eventually(async () => {
    const t = (
      await bob.call<{ name: string; status: string; sha256: string; groupId?: string }[]>('transfers')
    ).find((x) => x.name === 'tea.png')
    return t?.status === 'complete' ? t : undefined
  }, "the picture at Bob's node")
  assert.equal(atBob.groupId, groupId)
  assert.equal(atBob.sha256, sha256(picture))
  await row.getByText('You: [Photo]').waitFor({ timeout: 15_000 })
  await page.screenshot({ path: join(await outputDir('groups'), 'conversation-en.png') })

  // Away from the group, Carol's message counts as unread; opening the group reads it.
  await page.goto(`${alice.origin}/#/chats`)
  await eventually(
    async () => (await carol.call<Group[]>('groups')).some((g) => g.id === groupId),
    'the group at Carol',
  )
  await carol.call('send', { contact: groupId, text: '@Alice Carol here' })
  await row.getByText('Carol: @Alice Carol here').waitFor({ timeout: 20_000 })
  assert.match((await row.getByTestId('unread').textContent()) ?? '', /1 unread/)
  // She named Alice: the list says so before the preview, and the bubble is marked.
  await row.getByText('[1 mention you]', { exact: false }).waitFor()
  await row.click()
  await messages.getByText('@Alice Carol here').waitFor()
  await messages.locator('li.mentions-me', { hasText: 'Carol here' }).getByText('Mentions you').waitFor()
  // The group's own changes are lines in its conversation.
  await messages.getByRole('note').filter({ hasText: 'Alice added Bob, Carol' }).waitFor()
  await eventually(async () => (await row.getByTestId('unread').count()) === 0, 'read once opened')
  assert.equal(
    (await alice.call<Group & { unread: number }>('group', { group: groupId })).unread,
    0,
    'the node counts it read',
  )
})

test('in 中文 at phone size: the members with their roles, and the owner makes Bob an admin', async () => {
  const zh = await openApp(browser, alice.web, { viewport: { width: 375, height: 667 }, locale: 'zh-CN' })
  try {
    await zh.page.goto(`${alice.origin}/#/group/${groupId}`)
    await zh.page.getByTestId('group-messages').getByText('Carol here').waitFor({ timeout: 20_000 })
    await zh.page.getByRole('note').filter({ hasText: 'Alice邀请Bob、Carol加入了群聊' }).waitFor()
    await zh.page.screenshot({ path: join(await outputDir('groups'), 'conversation-zh-phone.png') })
    await zh.page.getByRole('link', { name: '聊天信息' }).click()
    const members = zh.page.getByRole('region', { name: '群成员' })
    await members.getByRole('heading', { name: '群成员（3）' }).waitFor({ timeout: 20_000 })
    const member = (name: string) => members.getByRole('listitem').filter({ hasText: name })
    await member('Alice').getByText('群主', { exact: true }).waitFor()
    await member('Alice').getByText('（我）').waitFor()
    assert.equal(await member('Bob').getByText('管理员', { exact: true }).count(), 0)

    await member('Bob').getByRole('button', { name: '设 Bob 为管理员' }).click()
    await member('Bob').getByText('管理员', { exact: true }).waitFor({ timeout: 15_000 })
    await member('Bob').getByRole('button', { name: '取消 Bob 的管理员' }).waitFor()
    await members.getByRole('button', { name: '将 Carol 移出群聊' }).waitFor()
    await members.getByRole('button', { name: '将群主转让给 Carol' }).waitFor()
    // A refusal is said in the reader's language: a name over 64 bytes (3 per 汉字).
    await zh.page.getByLabel('群聊名称').fill('茶'.repeat(30))
    await zh.page.getByRole('button', { name: '修改群名' }).click()
    await zh.page
      .getByRole('alert')
      .getByText('群聊名称为 1 到 64 字节的可打印文字。')
      .waitFor({ timeout: 15_000 })
    // The owner hands ownership on before leaving: the page says so rather than offering it.
    assert.equal(await zh.page.getByRole('button', { name: '退出群聊' }).isDisabled(), true)
    await zh.page.getByText('你是群主：请先将群主转让给其他成员，再退出群聊。').waitFor()
    await zh.page.screenshot({
      path: join(await outputDir('groups'), 'members-zh-phone.png'),
      fullPage: true,
    })
    await eventually(
      async () =>
        (await bob.call<Group>('group', { group: groupId })).members.find((m) => m.name === 'Bob')?.role ===
        'admin',
      'Bob an admin at his node',
    )

    // The owner lets only admins post (仅群主/管理员可发言): Carol, a member, sees the switches
    // read-only and a line where the composer was; her node's own send is refused.
    await zh.page.goto(`${alice.origin}/#/group-info/${groupId}`)
    const adminsOnly = zh.page.getByRole('switch', { name: '仅群主/管理员可发言' })
    assert.equal(await zh.page.getByRole('switch', { name: '入群确认' }).isChecked(), true)
    assert.equal(await adminsOnly.isChecked(), false)
    await adminsOnly.check()
    await eventually(
      async () => (await carol.call<{ adminsOnly: boolean }>('group', { group: groupId })).adminsOnly,
      'admins-only at Carol',
    )
    await assert.rejects(carol.call('send', { contact: groupId, text: 'me too' }), (e: { code?: string }) => {
      assert.equal(e.code, 'NotAllowed')
      return true
    })
    const c = await openApp(browser, carol.web)
    try {
      await c.page.goto(`${carol.origin}/#/group/${groupId}`)
      await c.page
        .getByRole('note')
        .filter({ hasText: 'Only the owner and admins post in this group.' })
        // A fresh page's first load: slow on a loaded machine.
        .waitFor({ timeout: 30_000 })
      assert.equal(await c.page.getByRole('textbox', { name: 'Message' }).count(), 0, 'no composer for Carol')
      await c.page.goto(`${carol.origin}/#/group-info/${groupId}`)
      const carolsSwitch = c.page.getByRole('switch', { name: 'Only admins can post' })
      await carolsSwitch.waitFor({ timeout: 15_000 })
      assert.equal(await carolsSwitch.isChecked(), true)
      assert.equal(await carolsSwitch.isDisabled(), true, 'a member sees it read-only')
    } finally {
      await c.context.close()
    }

    // The way in, in Chinese: 发起群聊 from the chats list.
    await zh.page.goto(`${alice.origin}/#/chats`)
    await zh.page.getByRole('link', { name: '发起群聊' }).click()
    await zh.page.getByLabel('群聊名称').waitFor()
    await zh.page.getByRole('checkbox', { name: 'Carol' }).check()
    await zh.page.getByRole('button', { name: '创建群聊' }).waitFor()
    await zh.page.screenshot({ path: join(await outputDir('groups'), 'new-group-zh-phone.png') })
  } finally {
    await zh.context.close()
  }
})
