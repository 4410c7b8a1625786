/**
 * A secure session reset, as the web app shows it, in Debian's Chromium against real `jiayi
 * start` processes on 127.0.0.1: Bob's store is repaired (so his next start resets every
 * session), and Alice's conversation with him shows one notice line, in English and in 中文, in
 * its place among the messages; the chat goes on.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, test } from 'node:test'
import type { Browser } from 'playwright-core'
import { en } from '../../apps/web/src/i18n/en.js'
import { zhCN } from '../../apps/web/src/i18n/zh-CN.js'
import {
  BIN,
  befriendNodes,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  ROOT,
  waitOrKeepPage,
} from './helpers.js'

interface Message {
  id: string
  text: string
  direction: 'in' | 'out'
  extension?: { kind: string }
}

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

test('a session reset is one notice line in the conversation, in both languages', async () => {
  const { bAtA, aAtB } = await befriendNodes(alice, bob)
  await bob.call('send', { contact: aAtB, text: 'before the repair' })

  // Bob's store is repaired: his next start resets every secure session.
  await bob.stop()
  const repaired = spawnSync(process.execPath, [BIN, '--home', bob.home, 'repair'], { cwd: ROOT })
  assert.equal(repaired.status, 0, String(repaired.stderr))
  bob = await NodePeer.restart(bob.home)
  await eventually(
    async () =>
      (await alice.call<Message[]>('messages', { contact: bAtA, peek: true })).some(
        (m) => m.extension?.kind === 'session-reset',
      ),
    'the reset at Alice',
  )
  await bob.call('send', { contact: aAtB, text: 'after the repair' })

  for (const [locale, catalogue] of [
    ['en-US', en],
    ['zh-CN', zhCN],
  ] as const) {
    const { context, page } = await openApp(browser, alice.web, { locale })
    try {
      await page.goto(`${alice.origin}/#/chat/${bAtA}`)
      const notice = page.locator('.system-notice[data-kind="session-reset"]')
      await waitOrKeepPage(page, notice, 'session-notice', locale)
      assert.equal(await notice.count(), 1, `${locale}: one notice`)
      const expected = catalogue['chat.sessionReset'].replace('{name}', 'Bob')
      assert.equal((await notice.textContent())?.trim(), expected, `${locale}: the notice in its language`)
      // Between the messages before and after it.
      await page.getByTestId('messages').getByText('after the repair').waitFor()
      const order = await page
        .locator('.messages > li')
        .evaluateAll((items) =>
          items.map((li) => (li.classList.contains('system-notice') ? 'notice' : li.textContent)),
        )
      const at = order.indexOf('notice')
      assert.ok(
        order.slice(0, at).some((t) => t?.includes('before the repair')),
        `${locale}: after the earlier messages`,
      )
      assert.ok(
        order.slice(at).some((t) => t?.includes('after the repair')),
        `${locale}: before the later ones`,
      )
    } finally {
      await context.close()
    }
  }
})
