/**
 * "Safety number changed", as the user sees it: two `jiayi start` processes on 127.0.0.1, then a
 * third on Bob's device key with an identity of its own (a stolen device key, or a reinstall that
 * kept it), which asks Alice for a session. Alice's web app (real Chromium), in English and in
 * 中文, shows the line in the conversation and the warning on the contact; the CLI shows both too.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { LevelStore, openSealedStore, storeKey } from '@jiayi/core'
import type { Browser } from 'playwright-core'
import { en } from '../../apps/web/src/i18n/en.js'
import { zhCN } from '../../apps/web/src/i18n/zh-CN.js'
import {
  BIN,
  cleanup,
  ensureWebBuilt,
  eventually,
  launchBrowser,
  NodePeer,
  openApp,
  ROOT,
  waitOrKeepPage,
} from './helpers.js'

interface Contact {
  id: string
  name: string
  state: string
  verified: boolean
  identityChanged: boolean
}

/** A stopped peer's home store (the key file unlocks it), to read or change records. */
async function homeStore(home: string) {
  const key = new Uint8Array(await readFile(join(home, 'storage.key')))
  return openSealedStore(await LevelStore.open(join(home, 'store')), { key })
}

/** `jiayi ARGS` on `home`; its stdout. */
function jiayi(home: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--home', home, ...args], { cwd: ROOT })
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d
    })
    child.once('error', reject)
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`jiayi exited ${code}`))))
  })
}

describe('a contact’s device under other identity keys, in the web app and the CLI', () => {
  let alice: NodePeer
  let mallory: NodePeer | undefined
  let browser: Browser
  let bobId: string
  const homes: string[] = []

  before(async () => {
    ensureWebBuilt()
    alice = await NodePeer.start('Alice')
    const bob = await NodePeer.start('Bob')
    const card = await alice.call<{ link: string }>('card')
    await bob.call('addContact', { link: card.link })
    const request = await eventually(
      async () => (await alice.call<Contact[]>('contactList')).find((c) => c.state === 'pending-in'),
      'Bob’s request',
    )
    bobId = request.id
    await alice.call('accept', { contact: bobId })
    await alice.call('verify', { contact: bobId, mark: true })
    await bob.stop()

    // Mallory: a home of her own, then Bob's device key in its account.
    const home = await mkdtemp(join(tmpdir(), 'jyw-'))
    homes.push(home)
    await jiayi(home, ['init', '--name', 'Bob'])
    const account = storeKey('account')
    const bobStore = await homeStore(bob.home)
    const bobAccount = JSON.parse(Buffer.from((await bobStore.get(account))!).toString()) as {
      deviceKey: string
    }
    await bobStore.close()
    const own = await homeStore(home)
    const record = JSON.parse(Buffer.from((await own.get(account))!).toString()) as { deviceKey: string }
    await own.put(account, Buffer.from(JSON.stringify({ ...record, deviceKey: bobAccount.deviceKey })))
    await own.close()
    mallory = await NodePeer.restart(home)
    await mallory.call('addContact', { link: card.link })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await cleanup()
    await Promise.all(homes.map((h) => rm(h, { recursive: true, force: true })))
  })

  test('the contact says so, not verified; no second contact for the device', async () => {
    const list = await eventually(async () => {
      const l = await alice.call<Contact[]>('contactList')
      return l.find((c) => c.id === bobId)?.identityChanged ? l : undefined
    }, 'identityChanged')
    assert.equal(list.length, 1)
    assert.equal(list[0]!.verified, false)
  })

  test('the conversation and the contact page show it, in English and in 中文', async () => {
    for (const [locale, words] of [
      ['en-US', en],
      ['zh-CN', zhCN],
    ] as const) {
      const { context, page } = await openApp(browser, alice.web, { locale })
      try {
        await page.goto(`${alice.origin}/#/chat/${bobId}`)
        const line = page.locator('li.msg.system[data-kind="safety-number-changed"]')
        await waitOrKeepPage(page, line, 'safety-number', locale)
        const text = (await line.textContent()) ?? ''
        assert.ok(text.includes(words['chat.safetyChanged'].replace('{name}', 'Bob')), text)
        await page.goto(`${alice.origin}/#/contact/${bobId}`)
        const warning = page.getByTestId('identity-changed')
        await warning.waitFor()
        assert.ok(
          ((await warning.textContent()) ?? '').includes(
            words['contact.identityChanged'].split('{name}')[0]!,
          ),
        )
      } finally {
        await context.close()
      }
    }
  })

  test('the CLI shows the line and the flag', async () => {
    const messages = await jiayi(alice.home, ['messages', bobId, '--peek'])
    assert.match(messages, /\*\*\* Your safety number with Bob changed/)
    const table = await jiayi(alice.home, ['contacts'])
    assert.match(table, /SAFETY NUMBER CHANGED/)
  })
})
