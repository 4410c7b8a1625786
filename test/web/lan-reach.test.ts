/**
 * Reaching a phone's in-page peer on a `--web-lan` page (issue 16): the page is HTTPS, so it can
 * open only wss:// connections; the node serving it takes the relay connection on its own HTTPS
 * port (same origin, same certificate) and the phone's card carries its addresses through that
 * relay. In real Chromium, with the app's own screens:
 *
 * - another node adds the phone's card: its request arrives, the phone accepts, they chat;
 * - the node serving the page adds it too;
 * - a second phone adds the first phone's card: the request arrives, they chat.
 *
 * Browser-to-browser WebRTC needs a real interface (Chromium gathers no ICE candidates on
 * loopback), so everything runs inside a network namespace the test creates and removes
 * (apps/web/test/peer-netns.ts): the LAN node (relay, HTTPS page), the other node and Chromium.
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeCard } from '@jiayi/core'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { createNetns, firstLine, type Netns, netnsUnavailable } from '../../apps/web/test/peer-netns.js'
import { CHROMIUM_ARGS } from '../browser/chromium.js'
import { BIN, callHome, ensureWebBuilt, eventually, navTo, waitOrKeepPage } from './helpers.js'

interface Ready {
  peerId: string
  addrs: string[]
  webLan?: string[]
}
interface Contact {
  id: string
  name: string
  state: string
  peerId: string
}
interface Message {
  id: string
  text: string
  direction: string
}

const call = callHome

const nav = (page: Page, name: string) => navTo(page, name, 'lan-reach')

/** Creates an identity on the LAN page (no passphrase lock: the test's throwaway profile). */
async function onboard(page: Page, url: string, name: string): Promise<void> {
  await page.goto(url)
  const lock = page.getByRole('checkbox', { name: 'Lock this profile with a passphrase (recommended)' })
  await waitOrKeepPage(page, lock, 'lan-reach', `onboarding-${name}`)
  await lock.uncheck()
  await page.getByRole('textbox', { name: 'Your name' }).fill(name)
  await page.getByRole('button', { name: 'Create my identity' }).click()
  await page.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 60_000 })
}

/** The page's own contact link, once its card has an address through the relay. */
async function myLink(page: Page): Promise<string> {
  await nav(page, 'Contacts')
  return eventually(
    async () => {
      const link = (await page.getByTestId('my-link').textContent())?.trim() ?? ''
      return link !== '' && decodeCard(link).addrs.some((a) => a.includes('/p2p-circuit/webrtc')) && link
    },
    'a card address through the relay',
    30_000,
  )
}

async function openChat(page: Page, name: string): Promise<void> {
  await nav(page, 'Chats')
  await page
    .getByRole('link', { name: new RegExp(name) })
    .first()
    .click()
  await page.getByRole('textbox', { name: 'Message' }).waitFor()
}

async function send(page: Page, text: string): Promise<void> {
  await page.getByRole('textbox', { name: 'Message' }).fill(text)
  await page.getByRole('button', { name: 'Send', exact: true }).click()
}

async function accept(page: Page, from: string): Promise<void> {
  await nav(page, 'Contacts')
  await page.getByText(`${from} wants to add you`).waitFor({ timeout: 30_000 })
  await page.getByRole('button', { name: 'Accept', exact: true }).click()
}

describe('phones on a --web-lan page are reachable through its node', { timeout: 240_000 }, () => {
  // Never skipped: without root (network namespaces) this fails and says why. CI runs as root.
  test('this machine can create a network namespace', () => {
    assert.equal(netnsUnavailable(), undefined)
  })

  let netns: Netns
  let lanHome: string
  let otherHome: string
  let lanNode: ChildProcess
  let otherNode: ChildProcess
  let lanReady: Ready
  let browser: Browser
  const contexts: BrowserContext[] = []
  let phoneA: Page
  let phoneB: Page
  let linkA: string
  const pageErrors: string[] = []

  const spawnNode = (home: string, args: readonly string[]) => {
    const env = { ...process.env }
    delete env.JIAYI_HOME
    delete env.JIAYI_PASSPHRASE
    return netns.spawn(
      process.execPath,
      [BIN, '--home', home, 'start', '--json', '--no-mdns', '--no-link-previews', ...args],
      env,
    )
  }

  const phone = async () => {
    const context = await browser.newContext({
      ignoreHTTPSErrors: true,
      // Wide enough that the navigation stays beside an open conversation.
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    })
    contexts.push(context)
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(e.message))
    return page
  }

  before(async () => {
    ensureWebBuilt()
    ;[netns, lanHome, otherHome] = await Promise.all([
      createNetns(),
      mkdtemp(join(tmpdir(), 'jyr-')),
      mkdtemp(join(tmpdir(), 'jyr-')),
    ])
    const listen = (proto: string) => ['--listen', `/ip4/${netns.address}/tcp/0${proto}`]
    lanNode = spawnNode(lanHome, [
      '--init-if-needed',
      '--name',
      'Shop 小店',
      ...listen(''),
      ...listen('/ws'),
      '--web-lan',
      '--web-host',
      netns.address,
    ])
    otherNode = spawnNode(otherHome, [
      '--init-if-needed',
      '--name',
      'Desk 小明',
      ...listen(''),
      ...listen('/ws'),
      '--no-web',
    ])
    ;[lanReady] = await Promise.all([
      firstLine<Ready>(lanNode, (v) => v.event === 'ready', 60_000),
      firstLine<Ready>(otherNode, (v) => v.event === 'ready', 60_000),
    ])
    // The relay is offered on the page's own origin, over TLS.
    assert.ok(
      lanReady.addrs.some((a) => a.startsWith(`/ip4/${netns.address}/tcp/`) && a.includes('/tls/ws/p2p/')),
      lanReady.addrs.join(' '),
    )
    browser = await chromium.launch({
      executablePath: netns.chromium,
      headless: true,
      args: [...CHROMIUM_ARGS],
    })
    phoneA = await phone()
    phoneB = await phone()
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => undefined)
    await browser?.close().catch(() => undefined)
    lanNode?.kill('SIGTERM')
    otherNode?.kill('SIGTERM')
    await netns?.remove()
    for (const home of [lanHome, otherHome]) if (home) await rm(home, { recursive: true, force: true })
  })

  test('the page is offered the relay as wss:// on its own origin, and its card carries it', async () => {
    const url = lanReady.webLan?.[0]
    assert.equal(url, `https://${netns.address}:${new URL(url!).port}/`)
    await onboard(phoneA, url!, 'Phone 甲')
    const relays = (await phoneA.evaluate(async () => (await fetch('/jiayi-relays.json')).json())) as {
      relays: string[]
    }
    assert.ok(relays.relays.length > 0)
    for (const r of relays.relays) assert.match(r, new RegExp(`/tcp/${new URL(url!).port}/tls/ws/p2p/`))
    linkA = await myLink(phoneA)
    const addrs = decodeCard(linkA).addrs
    const relayId = lanReady.peerId
    assert.ok(
      addrs.some((a) => /\/tls\/ws\/p2p\//.test(a) && a.endsWith(`/p2p/${relayId}/p2p-circuit/webrtc`)),
      `a circuit through the relay over TLS (for browsers): ${addrs.join(' ')}`,
    )
    assert.ok(
      addrs.some((a) => !a.includes('/tls/') && a.endsWith(`/p2p/${relayId}/p2p-circuit/webrtc`)),
      `a circuit through the relay without TLS (for nodes): ${addrs.join(' ')}`,
    )
  })

  test('a node adds the phone: the request arrives, the phone accepts, they chat', async () => {
    const added = await call<Contact>(otherHome, 'addContact', { link: linkA })
    assert.equal(added.name, 'Phone 甲')
    await accept(phoneA, 'Desk 小明')
    await eventually(
      async () =>
        (await call<Contact[]>(otherHome, 'contactList')).find((c) => c.id === added.id)?.state ===
        'accepted',
      'the node sees the accept',
      30_000,
    )
    await call(otherHome, 'send', { contact: added.id, text: 'Hello phone, from the desk 你好' })
    await openChat(phoneA, 'Desk 小明')
    await phoneA
      .getByTestId('messages')
      .getByText('Hello phone, from the desk 你好')
      .waitFor({ timeout: 30_000 })
    await send(phoneA, 'Hi desk 👋')
    await eventually(
      async () =>
        (await call<Message[]>(otherHome, 'messages', { contact: added.id })).some(
          (m) => m.direction === 'in' && m.text === 'Hi desk 👋',
        ),
      'the node receives the reply',
      30_000,
    )
  })

  test('the node that serves the page adds the phone too: it reaches it on the connection the page keeps', async () => {
    const added = await call<Contact>(lanHome, 'addContact', { link: linkA })
    await accept(phoneA, 'Shop 小店')
    await eventually(
      async () =>
        (await call<Contact[]>(lanHome, 'contactList')).find((c) => c.id === added.id)?.state === 'accepted',
      'the serving node sees the accept',
      30_000,
    )
    await call(lanHome, 'send', { contact: added.id, text: 'Welcome to the shop 欢迎' })
    await openChat(phoneA, 'Shop 小店')
    await phoneA.getByTestId('messages').getByText('Welcome to the shop 欢迎').waitFor({ timeout: 30_000 })
  })

  test('a second phone adds the first: the request arrives, they chat', async () => {
    await onboard(phoneB, lanReady.webLan![0]!, 'Phone 乙')
    await nav(phoneB, 'Contacts')
    await phoneB.getByRole('button', { name: 'Add contact' }).click()
    await phoneB.getByRole('textbox', { name: 'Contact link' }).fill(linkA)
    await phoneB.getByRole('button', { name: 'Add', exact: true }).click()
    await accept(phoneA, 'Phone 乙')
    await openChat(phoneA, 'Phone 乙')
    await send(phoneA, 'Phone to phone 直接')
    await openChat(phoneB, 'Phone 甲')
    await phoneB.getByTestId('messages').getByText('Phone to phone 直接').waitFor({ timeout: 30_000 })
    await send(phoneB, 'Got it 收到')
    await phoneA.getByTestId('messages').getByText('Got it 收到').waitFor({ timeout: 30_000 })
    // The relay carried only the signalling: the chat runs over a direct connection on the LAN.
    for (const page of [phoneA, phoneB])
      await page.locator('.conv-title .presence').getByText('online · LAN').waitFor({ timeout: 20_000 })
    assert.deepEqual(pageErrors, [])
  })
})
