/**
 * A phone on mobile data (issue 18, item 6): the home node (`jiayi start --serve --tls-cert FILE
 * --tls-key FILE --https-port 8443`) serves the web app over HTTPS under its owner's certificate,
 * for a name of the owner's (home.jiayi.test here), and itself as WSS on the same origin. In real
 * Chromium, with the app's own screens:
 *
 * - the page is a secure context: its service worker registers and caches the app shell;
 * - the phone links the home node in Settings; its card's only addresses are circuits through
 *   the home node, whose relay slot it holds over WSS;
 * - a contact (a node) adds the phone: the request arrives through the home node, they chat;
 * - while the phone is closed, the contact's message waits in its mailbox on the home node
 *   (`stored`); the phone opened again gets it, and the contact sees it delivered;
 * - attacker: a browser that does not trust the certificate refuses the page.
 *
 * The certificate comes from a CA this test makes (openssl); Chromium trusts only the server key
 * (--ignore-certificate-errors-spki-list) and resolves the name to the namespace's address
 * (--host-resolver-rules). Node-to-browser WebRTC needs a real interface (Chromium gathers no ICE
 * candidates on loopback), so everything runs inside a network namespace the test creates and
 * removes (apps/web/test/peer-netns.ts).
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { decodeCard, decodeHomeLink } from '@jiayi/core'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { makeTestCertificates, type TestCertificates } from '../../apps/node/test/helpers/test-ca.js'
import { createNetns, firstLine, type Netns, netnsUnavailable } from '../../apps/web/test/peer-netns.js'
import { CHROMIUM_ARGS } from '../browser/chromium.js'
import { BIN, callHome, ensureWebBuilt, eventually, navTo, waitOrKeepPage } from './helpers.js'

const NAME = 'home.jiayi.test'
const HTTPS_PORT = 8443
const URL_ = `https://${NAME}:${HTTPS_PORT}/`
const SHOTS = 'home-https'

interface HomeReady {
  peerId: string
  addrs: string[]
  serveLink: string
  https?: string[]
  fingerprint?: string
}
interface Ready {
  peerId: string
  addrs: string[]
}
interface Contact {
  id: string
  name: string
  state: string
}
interface Message {
  id: string
  text: string
  direction: string
  status: string
}

const call = callHome

const nav = (page: Page, name: string) => navTo(page, name, SHOTS)

async function openChat(page: Page, name: string): Promise<void> {
  await nav(page, 'Chats')
  await page
    .getByRole('link', { name: new RegExp(name) })
    .first()
    .click()
  await page.getByRole('textbox', { name: 'Message' }).waitFor()
}

describe('a phone reaches its contacts through its home node over HTTPS', { timeout: 240_000 }, () => {
  // Never skipped: without root (network namespaces) this fails and says why. CI runs as root.
  test('this machine can create a network namespace', () => {
    assert.equal(netnsUnavailable(), undefined)
  })

  let netns: Netns
  let dir: string
  let homeDir: string
  let deskHome: string
  let certs: TestCertificates
  let homeNode: ChildProcess
  let desk: ChildProcess
  let homeReady: HomeReady
  let browser: Browser
  let untrusting: Browser
  let context: BrowserContext
  let phone: Page
  let phoneLink: string
  let deskContact: string // the phone, as the desk's contact id
  const pageErrors: string[] = []

  const spawnJiayi = (home: string, args: readonly string[]) => {
    const env = { ...process.env }
    delete env.JIAYI_HOME
    delete env.JIAYI_PASSPHRASE
    return netns.spawn(process.execPath, [BIN, '--home', home, 'start', '--json', ...args], env)
  }

  const launch = (trusted: boolean) =>
    chromium.launch({
      executablePath: netns.chromium,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        `--host-resolver-rules=MAP ${NAME} ${netns.address}`,
        ...(trusted ? [`--ignore-certificate-errors-spki-list=${certs.spkiHash}`] : []),
      ],
    })

  const newPhonePage = async () => {
    const page = await context.newPage()
    page.on('pageerror', (e) => pageErrors.push(String(e.stack ?? e.message)))
    return page
  }

  before(async () => {
    ensureWebBuilt()
    ;[netns, dir, homeDir, deskHome] = await Promise.all([
      createNetns(),
      mkdtemp(join(tmpdir(), 'jyh-')),
      mkdtemp(join(tmpdir(), 'jyh-')),
      mkdtemp(join(tmpdir(), 'jyh-')),
    ])
    certs = await makeTestCertificates(dir, [NAME])
    homeNode = spawnJiayi(homeDir, [
      '--serve',
      '--listen',
      `/ip4/${netns.address}/tcp/0`,
      '--tls-cert',
      certs.cert,
      '--tls-key',
      certs.key,
      '--https-port',
      String(HTTPS_PORT),
    ])
    desk = spawnJiayi(deskHome, [
      '--init-if-needed',
      '--name',
      'Desk 小明',
      '--no-mdns',
      '--no-link-previews',
      '--no-web',
      '--listen',
      `/ip4/${netns.address}/tcp/0`,
      // What a browser can dial from an HTTPS page without a relay: the phone reaches the desk
      // by itself (receipts for what it fetched from its mailbox).
      '--listen',
      `/ip4/${netns.address}/udp/0/webrtc-direct`,
    ])
    ;[homeReady] = await Promise.all([
      firstLine<HomeReady>(homeNode, (v) => v.event === 'ready', 60_000),
      firstLine<Ready>(desk, (v) => v.event === 'ready', 60_000),
    ])
    ;[browser, untrusting] = await Promise.all([launch(true), launch(false)])
    context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    })
    phone = await newPhonePage()
  })

  after(async () => {
    await context?.close().catch(() => undefined)
    await browser?.close().catch(() => undefined)
    await untrusting?.close().catch(() => undefined)
    homeNode?.kill('SIGTERM')
    desk?.kill('SIGTERM')
    await netns?.remove()
    for (const d of [dir, homeDir, deskHome]) if (d) await rm(d, { recursive: true, force: true })
  })

  test('the home node offers the app at its certificate name, and itself as WSS there', () => {
    assert.deepEqual(homeReady.https, [URL_])
    assert.match(homeReady.fingerprint ?? '', /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/)
    const wss = `/dns/${NAME}/tcp/${HTTPS_PORT}/tls/ws`
    assert.ok(homeReady.addrs.includes(`${wss}/p2p/${homeReady.peerId}`), homeReady.addrs.join(' '))
    // The link carries it, for browsers, beside the TCP address nodes dial.
    const link = decodeHomeLink(homeReady.serveLink)
    assert.ok(link.addrs.includes(wss), link.addrs.join(' '))
    assert.ok(link.addrs.some((a) => a.startsWith(`/ip4/${netns.address}/tcp/`) && !a.includes('/ws')))
  })

  test('the page is a secure context: it installs (manifest, service worker, cached shell)', async () => {
    await phone.goto(URL_)
    const lock = phone.getByRole('checkbox', { name: 'Lock this profile with a passphrase (recommended)' })
    await waitOrKeepPage(phone, lock, SHOTS, 'onboarding')
    const installed = await phone.evaluate(async () => {
      const registration = await navigator.serviceWorker.ready
      const manifest = (await (await fetch('/manifest.webmanifest')).json()) as { name?: string }
      // The shell is cached at install; activation follows it.
      const keys = await caches.keys()
      return {
        secure: isSecureContext,
        sw: registration.active?.scriptURL,
        manifest: manifest.name,
        linked: document.querySelector('link[rel="manifest"]') !== null,
        shell: keys.some((k) => k.startsWith('jiayi-shell-')),
      }
    })
    assert.deepEqual(installed, {
      secure: true,
      sw: `${URL_}sw.js`,
      manifest: 'Jiayi 加一',
      linked: true,
      shell: true,
    })
    await lock.uncheck()
    await phone.getByRole('textbox', { name: 'Your name' }).fill('Phone 甲')
    await phone.getByRole('button', { name: 'Create my identity' }).click()
    await phone.getByRole('heading', { name: 'Chats' }).waitFor({ timeout: 60_000 })
  })

  test('the phone links its home node in Settings; its card reaches it only through the home node', async () => {
    const relays = (await phone.evaluate(async () => (await fetch('/jiayi-relays.json')).json())) as {
      relays: string[]
    }
    assert.deepEqual(relays.relays, [`/dns/${NAME}/tcp/${HTTPS_PORT}/tls/ws/p2p/${homeReady.peerId}`])
    await nav(phone, 'Settings')
    await phone.getByRole('textbox', { name: 'Home node link' }).fill(homeReady.serveLink)
    await phone.getByRole('button', { name: 'Link home node' }).click()
    await phone.getByTestId('home-node').getByText(`Linked: ${homeReady.peerId}`).waitFor({ timeout: 30_000 })
    await nav(phone, 'Contacts')
    phoneLink = await eventually(
      async () => {
        const link = (await phone.getByTestId('my-link').textContent())?.trim() ?? ''
        return link !== '' && decodeCard(link).addrs.some((a) => a.includes('/p2p-circuit/webrtc')) && link
      },
      'a card address through the home node',
      30_000,
    )
    const addrs = decodeCard(phoneLink).addrs
    assert.ok(addrs.length > 0)
    for (const a of addrs) assert.ok(a.includes(`/p2p/${homeReady.peerId}/p2p-circuit`), a)
    assert.ok(
      addrs.some((a) => a.includes(`/dns/${NAME}/tcp/${HTTPS_PORT}/tls/ws/`)),
      addrs.join(' '),
    )
    assert.ok(
      addrs.some((a) => a.startsWith(`/ip4/${netns.address}/tcp/`)),
      addrs.join(' '),
    )
  })

  test('a contact adds the phone: the request comes through the home node, they chat', async () => {
    const added = await call<Contact>(deskHome, 'addContact', { link: phoneLink })
    deskContact = added.id
    assert.equal(added.name, 'Phone 甲')
    await nav(phone, 'Contacts')
    await phone.getByText('Desk 小明 wants to add you').waitFor({ timeout: 30_000 })
    await phone.getByRole('button', { name: 'Accept', exact: true }).click()
    await eventually(
      async () =>
        (await call<Contact[]>(deskHome, 'contactList')).find((c) => c.id === added.id)?.state === 'accepted',
      'the desk sees the accept',
      30_000,
    )
    await call(deskHome, 'send', { contact: added.id, text: 'Hello phone on the train 你好' })
    await openChat(phone, 'Desk 小明')
    await phone
      .getByTestId('messages')
      .getByText('Hello phone on the train 你好')
      .waitFor({ timeout: 30_000 })
    await phone.getByRole('textbox', { name: 'Message' }).fill('Hi from the train 👋')
    await phone.getByRole('button', { name: 'Send', exact: true }).click()
    await eventually(
      async () =>
        (await call<Message[]>(deskHome, 'messages', { contact: added.id })).some(
          (m) => m.direction === 'in' && m.text === 'Hi from the train 👋',
        ),
      'the desk receives the reply',
      30_000,
    )
  })

  test('while the phone is closed its messages wait on the home node; opened again, it gets them', async () => {
    await phone.close()
    const text = 'While you were in the tunnel 隧道'
    const sent = await call<Message>(deskHome, 'send', { contact: deskContact, text })
    await eventually(
      async () =>
        (await call<Message[]>(deskHome, 'messages', { contact: deskContact })).find((m) => m.id === sent.id)
          ?.status === 'stored',
      'the message stored in the phone’s mailbox',
      60_000,
    )
    phone = await newPhonePage()
    await phone.goto(URL_)
    await openChat(phone, 'Desk 小明')
    await phone.getByTestId('messages').getByText(text).waitFor({ timeout: 30_000 })
    await eventually(
      async () => {
        const status = (await call<Message[]>(deskHome, 'messages', { contact: deskContact })).find(
          (m) => m.id === sent.id,
        )?.status
        return status === 'delivered' || status === 'read'
      },
      'the desk sees it delivered',
      30_000,
    )
    assert.deepEqual(pageErrors, [])
  })

  test('attacker: a browser that does not trust the certificate refuses the page', async () => {
    const page = await untrusting.newPage()
    await assert.rejects(page.goto(URL_), /ERR_CERT_AUTHORITY_INVALID/)
  })
})
