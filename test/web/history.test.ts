/**
 * A long conversation in the web app, in Debian's Chromium against real `jiayi start` processes on
 * 127.0.0.1: scrolling up pages older messages in until the very first one, with never more than
 * a bounded number of messages in the page and the message the reader looked at kept in place;
 * scrolling down again pages forward to the newest.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Locator } from 'playwright-core'
import {
  befriendNodes,
  Control,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
} from './helpers.js'

/** The app keeps at most 400 messages, plus a page of new arrivals (apps/web/src/lib/history.ts). */
const MAX_IN_PAGE = 500
const COUNT = 1_000
const text = (i: number) => `line ${String(i).padStart(4, '0')}`

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

/** Ids of the messages in the list, top to bottom. */
const shownIds = (list: Locator) =>
  list.evaluate((el) => [...el.querySelectorAll<HTMLElement>('li[data-id]')].map((li) => li.dataset.id!))

test('scrolling up reaches the first of 1,000 messages with a bounded page, and back down to the newest', {
  timeout: 240_000,
}, async () => {
  const { aAtB } = await befriendNodes(alice, bob)
  const control = await Control.open(join(bob.home, 'control.sock'))
  try {
    for (let i = 0; i < COUNT; i += 50)
      await Promise.all(
        Array.from({ length: Math.min(50, COUNT - i) }, (_, k) =>
          control.call('send', { contact: aAtB, text: text(i + k) }),
        ),
      )
  } finally {
    control.close()
  }
  await eventually(async () => {
    const chats = await alice.call<{ unread: number }[]>('chats')
    return chats[0]?.unread === COUNT
  }, 'all 1,000 at Alice')

  const { context, page } = await openApp(browser, alice.web, { viewport: { width: 900, height: 700 } })
  try {
    await page.getByTestId('chat-list').getByText('Bob').click()
    const list = page.getByTestId('messages')
    await list.getByText(text(COUNT - 1), { exact: true }).waitFor()

    // Up, a page at a time, until the first message.
    let first = ''
    for (let round = 0; round < 40; round++) {
      const ids = await shownIds(list)
      assert.ok(ids.length <= MAX_IN_PAGE, `${ids.length} messages in the page`)
      if ((await list.getByText(text(0), { exact: true }).count()) > 0) break
      first = ids[0]!
      await list.evaluate((el) => {
        el.scrollTop = 0
      })
      await eventually(async () => (await shownIds(list))[0] !== first, 'an older page')
      // The message that was at the top is still where the reader saw it.
      const top = await list.evaluate((el, id) => {
        const li = el.querySelector<HTMLElement>(`li[data-id="${id}"]`)
        return li === null ? undefined : li.getBoundingClientRect().top - el.getBoundingClientRect().top
      }, first)
      assert.ok(top !== undefined && Math.abs(top) < 80, `kept in place (${top} px from the top)`)
    }
    await list.getByText(text(0), { exact: true }).waitFor()
    // 1,000 is ten full pages: one more look up finds nothing before it, and the button goes.
    await list.evaluate((el) => {
      el.scrollTop = 0
    })
    await list.getByRole('button', { name: 'Load older messages' }).waitFor({ state: 'detached' })
    assert.ok((await shownIds(list)).length <= MAX_IN_PAGE)
    await page.screenshot({ path: join(alice.home, 'history-top.png') })

    // And down again to the newest: the window moves forward, still bounded.
    for (let round = 0; round < 40; round++) {
      if ((await list.getByRole('button', { name: 'Load newer messages' }).count()) === 0) break
      const last = (await shownIds(list)).at(-1)
      await list.evaluate((el) => {
        el.scrollTop = el.scrollHeight
      })
      // (Pages may come in one after another while the list is near its end.)
      await eventually(
        async () =>
          (await shownIds(list)).at(-1) !== last ||
          (await list.getByRole('button', { name: 'Load newer messages' }).count()) === 0,
        'a newer page',
      )
      assert.ok((await shownIds(list)).length <= MAX_IN_PAGE)
    }
    await list.getByText(text(COUNT - 1), { exact: true }).waitFor()
    assert.equal(await list.getByText(text(0), { exact: true }).count(), 0, 'the oldest left the page')

    // Live again: a new message shows at the bottom.
    await bob.call('send', { contact: aAtB, text: 'newest 最新' })
    await list.getByText('newest 最新', { exact: true }).waitFor()
  } finally {
    await context.close()
  }
})

test('Moments loads older posts on scroll until the first', { timeout: 120_000 }, async () => {
  const POSTS = 120
  const post = (i: number) => `moment ${String(i).padStart(3, '0')} 动态`
  const control = await Control.open(join(bob.home, 'control.sock'))
  try {
    // One at a time: each a millisecond or more after the one before, so their order is known.
    for (let i = 0; i < POSTS; i++) await control.call('post', { text: post(i) })
  } finally {
    control.close()
  }
  const { context, page } = await openApp(browser, bob.web, { viewport: { width: 900, height: 700 } })
  try {
    await page.getByRole('navigation').getByRole('link', { name: 'Moments' }).click()
    const timeline = page.getByTestId('timeline')
    await timeline.getByText(post(POSTS - 1)).waitFor()
    assert.equal(await timeline.getByText(post(0)).count(), 0, 'the first page is the newest')
    for (let round = 0; round < 10; round++) {
      if ((await timeline.getByText(post(0)).count()) > 0) break
      const before = await timeline.locator('li.post').count()
      await page.locator('.moments .scroll').evaluate((el) => {
        el.scrollTop = el.scrollHeight
      })
      await eventually(async () => (await timeline.locator('li.post').count()) > before, 'older posts')
    }
    await timeline.getByText(post(0)).waitFor()
    const texts = await timeline
      .locator('li.post')
      .evaluateAll((lis) => lis.map((li) => li.textContent ?? ''))
    assert.equal(texts.length, POSTS)
    for (let i = 0; i < POSTS; i++) assert.ok(texts[i]!.includes(post(POSTS - 1 - i)), `post ${i} in order`)
    await page.getByRole('button', { name: 'Load older posts' }).waitFor({ state: 'detached' })
  } finally {
    await context.close()
  }
})
