/**
 * A contact request as the web app lists it, in Debian's Chromium against real `jiayi start`
 * processes on 127.0.0.1: the requester's whole name shows beside (or above) Accept and Reject,
 * at phone and desktop size, in English and in 中文, never cut to a letter and a dot.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import type { Browser, Locator } from 'playwright-core'
import {
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
  state: string
}

const LONG_NAME = '大明贸易有限公司 采购部 王经理'

let alice: NodePeer
let requester: NodePeer
let browser: Browser

before(async () => {
  ensureWebBuilt()
  ;[alice, requester] = await Promise.all([NodePeer.start('Alice'), NodePeer.start(LONG_NAME)])
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await cleanup()
})

/** Whether all of the element's text is shown (nothing cut off by an ellipsis or overflow). */
async function shownWhole(el: Locator): Promise<boolean> {
  return el.evaluate((e) => e.scrollWidth <= e.clientWidth + 1 && e.scrollHeight <= e.clientHeight + 1)
}

test('a request row shows the requester’s whole name beside Accept and Reject', async () => {
  const card = await alice.call<{ link: string }>('card')
  await requester.call<Contact>('addContact', { link: card.link })
  await eventually(
    async () => (await alice.call<Contact[]>('contactList')).find((c) => c.state === 'pending-in'),
    'the request at Alice',
  )
  const shots = await outputDir('requests')
  for (const [label, viewport, locale, title] of [
    ['phone-en', { width: 360, height: 720 }, 'en-US', 'Contacts'],
    ['phone-zh', { width: 360, height: 720 }, 'zh-CN', '通讯录'],
    ['desktop-en', { width: 1280, height: 800 }, 'en-US', 'Contacts'],
  ] as const) {
    const { context, page } = await openApp(browser, alice.web, { viewport, locale })
    try {
      await page.getByRole('navigation').getByRole('link', { name: title, exact: true }).click()
      const row = page.locator('li.row.request')
      const name = row.locator('.row-title')
      await name.waitFor()
      assert.ok((await name.textContent())?.includes(LONG_NAME), `${label}: the name is in the row`)
      assert.ok(await shownWhole(name), `${label}: the whole name is shown`)
      for (const button of [locale === 'zh-CN' ? '接受' : 'Accept', locale === 'zh-CN' ? '拒绝' : 'Reject'])
        assert.ok(await row.getByRole('button', { name: button }).isVisible(), `${label}: ${button}`)
      await row.screenshot({ path: join(shots, `${label}.png`) })
    } finally {
      await context.close()
    }
  }
})
