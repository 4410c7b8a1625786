/**
 * Helpers for the web app's tests: real `jiayi start` processes on 127.0.0.1 (no mDNS), a small
 * control-socket client to drive the "other side", Debian's Chromium through playwright-core
 * (fresh profile, optional fake camera and microphone), and the app built once.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import jsQRModule from 'jsqr'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import { PNG } from 'pngjs'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))
export const BIN = join(ROOT, 'apps/node/bin/jiayi.mjs')
export const OUTPUT = join(ROOT, 'test-output', 'web')

import { CHROMIUM, CHROMIUM_ARGS } from '../browser/chromium.js'

export { CHROMIUM }

/** Builds apps/web/dist when it is missing or older than its sources. */
export function ensureWebBuilt(): void {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts/build-web.mjs'), '--if-needed'], {
    cwd: ROOT,
    stdio: 'inherit',
  })
  if (r.status !== 0) throw new Error('the web app did not build')
}

export async function outputDir(...sub: string[]): Promise<string> {
  const dir = join(OUTPUT, ...sub)
  await mkdir(dir, { recursive: true })
  return dir
}

/** jsqr is CommonJS: its default export is the module under NodeNext typing, the function at run time. */
const jsQR = ((jsQRModule as unknown as { default?: unknown }).default ??
  jsQRModule) as typeof jsQRModule.default

/** The contact link in the page's own QR code ("My QR code"), read from a screenshot. */
export async function readMyQr(page: Page): Promise<string> {
  return (await screenshotQr(page.locator('img.qr[alt="My QR code"]'))).text
}

/** A QR code image on the page: its screenshot (PNG) and the text it holds. */
export async function screenshotQr(img: Locator): Promise<{ png: Buffer; text: string }> {
  // The image itself, decoded: a grey placeholder with the same role and name stands in while
  // the code is drawn.
  const qr = img.and(img.page().locator('img.qr'))
  await qr.evaluate((el: HTMLImageElement) => el.decode())
  const png = await qr.screenshot()
  const image = PNG.sync.read(png)
  const code = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)
  if (code === null) throw new Error('no QR code in the screenshot')
  return { png, text: code.data }
}

export const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
export const sha256File = async (path: string) => sha256(await readFile(path))

const children = new Set<ChildProcess>()
const homes: string[] = []

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env }
  delete env.JIAYI_HOME
  delete env.JIAYI_PASSPHRASE
  return env
}

export interface Ready {
  readonly event: 'ready'
  readonly peerId: string
  readonly addrs: string[]
  readonly web?: string
}

/** A `jiayi start --json` process on a fresh home, on loopback only. */
export class NodePeer {
  private constructor(
    readonly home: string,
    readonly child: ChildProcess,
    readonly ready: Ready,
    readonly lines: Record<string, unknown>[],
  ) {}

  static async start(name: string, extra: readonly string[] = []): Promise<NodePeer> {
    const home = await mkdtemp(join(tmpdir(), 'jyw-'))
    homes.push(home)
    return NodePeer.run(home, ['--init-if-needed', '--name', name, ...extra])
  }

  /** A keyless home node (`jiayi start --serve`) on a fresh home; its ready line has `serveLink`. */
  static async serve(): Promise<NodePeer> {
    const home = await mkdtemp(join(tmpdir(), 'jyw-home-'))
    homes.push(home)
    return NodePeer.run(home, ['--serve'])
  }

  /** Starts a peer again on an existing home. */
  static restart(home: string, extra: readonly string[] = []): Promise<NodePeer> {
    return NodePeer.run(home, extra)
  }

  private static async run(home: string, extra: readonly string[]): Promise<NodePeer> {
    const child = spawn(
      process.execPath,
      [
        BIN,
        '--home',
        home,
        'start',
        '--json',
        '--no-mdns',
        '--no-link-previews',
        '--listen',
        '/ip4/127.0.0.1/tcp/0',
        ...extra,
      ],
      { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    )
    children.add(child)
    child.once('exit', () => children.delete(child))
    let stderr = ''
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const lines: Record<string, unknown>[] = []
    const ready = await new Promise<Ready>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`jiayi start did not get ready: ${stderr}`)), 30_000)
      child.once('exit', (code) => reject(new Error(`jiayi start exited ${code}: ${stderr}`)))
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const value = JSON.parse(line) as Record<string, unknown>
        if (value.event === 'ready') {
          clearTimeout(timer)
          resolve(value as unknown as Ready)
        } else lines.push(value)
      })
    })
    return new NodePeer(home, child, ready, lines)
  }

  get web(): string {
    if (this.ready.web === undefined) throw new Error('no web server')
    return this.ready.web
  }

  get origin(): string {
    return this.web.split('/#')[0]!
  }

  get token(): string {
    return this.web.split('#token=')[1]!
  }

  /** Calls the peer's API over its control socket. */
  async call<T = unknown>(method: string, params?: Record<string, unknown>): Promise<T> {
    const c = await Control.open(join(this.home, 'control.sock'))
    try {
      return await c.call<T>(method, params)
    } finally {
      c.close()
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return
    const exited = new Promise((r) => this.child.once('exit', r))
    this.child.kill('SIGTERM')
    await exited
  }
}

/** Newline-delimited JSON over the control socket. */
export class Control {
  private next = 1
  private readonly pending = new Map<number, (v: { result?: unknown; error?: { code: string } }) => void>()
  private constructor(private readonly socket: Socket) {
    createInterface({ input: socket }).on('line', (line) => {
      const v = JSON.parse(line) as { id?: number; result?: unknown; error?: { code: string } }
      if (typeof v.id === 'number') this.pending.get(v.id)?.(v)
    })
  }

  static open(path: string): Promise<Control> {
    return new Promise((resolve, reject) => {
      const s = connect(path, () => resolve(new Control(s)))
      s.once('error', reject)
    })
  }

  call<T>(method: string, params?: Record<string, unknown>): Promise<T> {
    const id = this.next++
    return new Promise((resolve, reject) => {
      this.pending.set(id, (v) => {
        this.pending.delete(id)
        if (v.error) reject(Object.assign(new Error(`${method}: ${v.error.code}`), v.error))
        else resolve(v.result as T)
      })
      this.socket.write(`${JSON.stringify({ id, method, params })}\n`)
    })
  }

  close(): void {
    this.socket.destroy()
  }
}

/** Waits until `check` returns a truthy value (polling), or fails with `what`. */
export async function eventually<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v) return v
    } catch (error) {
      last = error
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, 150))
  }
}

export interface BrowserOptions {
  /** A .y4m file the fake camera shows. */
  readonly fakeVideo?: string
  /** A .wav file the fake microphone plays. */
  readonly fakeAudio?: string
}

/** Debian's Chromium, headless, with nothing that talks to the network on its own. */
export async function launchBrowser(options: BrowserOptions = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: apt-get install -y chromium`)
  const media =
    options.fakeVideo || options.fakeAudio
      ? [
          '--use-fake-ui-for-media-stream',
          '--use-fake-device-for-media-stream',
          ...(options.fakeVideo ? [`--use-file-for-fake-video-capture=${options.fakeVideo}`] : []),
          ...(options.fakeAudio ? [`--use-file-for-fake-audio-capture=${options.fakeAudio}`] : []),
        ]
      : []
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS, ...media],
  })
}

/** A fresh context (its own profile: storage, service workers) on a page of the app. */
export async function openApp(
  browser: Browser,
  url: string,
  options: { viewport?: { width: number; height: number }; locale?: string } = {},
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({
    viewport: options.viewport ?? { width: 1280, height: 800 },
    locale: options.locale ?? 'en-US',
    acceptDownloads: true,
  })
  const page = await context.newPage()
  page.on('pageerror', (e) => console.error('page error:', e.message))
  page.on('dialog', (d) => void d.accept())
  await page.goto(url)
  return { context, page }
}

export async function cleanup(): Promise<void> {
  for (const c of children) c.kill('SIGKILL')
  children.clear()
  await Promise.all(homes.splice(0).map((h) => rm(h, { recursive: true, force: true })))
}

/** A mono 16-bit PCM WAV of a tone (for the fake microphone and as a generated voice message). */
export function toneWav(seconds: number, hz = 440, rate = 16_000): Uint8Array {
  const n = Math.round(seconds * rate)
  const buf = Buffer.alloc(44 + n * 2)
  buf.write('RIFF', 0)
  buf.writeUInt32LE(36 + n * 2, 4)
  buf.write('WAVE', 8)
  buf.write('fmt ', 12)
  buf.writeUInt32LE(16, 16)
  buf.writeUInt16LE(1, 20)
  buf.writeUInt16LE(1, 22)
  buf.writeUInt32LE(rate, 24)
  buf.writeUInt32LE(rate * 2, 28)
  buf.writeUInt16LE(2, 32)
  buf.writeUInt16LE(16, 34)
  buf.write('data', 36)
  buf.writeUInt32LE(n * 2, 40)
  for (let i = 0; i < n; i++) {
    const env = Math.min(1, i / 800, (n - i) / 800)
    buf.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 12_000 * env), 44 + i * 2)
  }
  return new Uint8Array(buf)
}

/** `a` adds `b`'s card and `b` accepts: each one's contact id at the other. */
export async function befriendNodes(a: NodePeer, b: NodePeer): Promise<{ bAtA: string; aAtB: string }> {
  const card = await b.call<{ link: string }>('card')
  const bAtA = (await a.call<{ id: string }>('addContact', { link: card.link })).id
  const aAtB = await eventually(
    async () =>
      (await b.call<{ id: string; state: string }[]>('contactList')).find((c) => c.state === 'pending-in'),
    'the request',
  )
  await b.call('accept', { contact: aAtB.id })
  await eventually(
    async () =>
      (await a.call<{ id: string; state: string }[]>('contactList')).find(
        (c) => c.id === bAtA && c.state === 'accepted',
      ),
    'accepted',
  )
  return { bAtA, aAtB: aAtB.id }
}

/**
 * Waits up to a minute for `locator` (a first page load on a loaded machine can be slow); if it
 * never shows, a screenshot and the page's text go to test-output/web/<test>/missing-<label>.*.
 */
export async function waitOrKeepPage(
  page: Page,
  locator: Locator,
  test: string,
  label: string,
): Promise<void> {
  await locator.waitFor({ timeout: 60_000 }).catch(async (error) => {
    const shots = await outputDir(test)
    await page.screenshot({ path: join(shots, `missing-${label}.png`) })
    await writeFile(join(shots, `missing-${label}.txt`), (await page.locator('body').textContent()) ?? '')
    throw error
  })
}

/**
 * For a context's addInitScript: records each browser notification the page shows (then shows
 * it as usual: headless Chromium draws none anyone could read), and lets a test say whether the
 * tab is hidden (headless Chromium keeps every tab visible). A string, not a function: the test
 * runner's compiler would wrap a function's inner functions in helpers the page does not have.
 */
export const RECORD_NOTIFICATIONS = `
  window.__shown = []
  const Real = window.Notification
  function Recorded(title, options) {
    window.__shown.push({ title, body: (options && options.body) || '' })
    return new Real(title, options)
  }
  Object.defineProperty(Recorded, 'permission', { get: () => Real.permission })
  Recorded.requestPermission = Real.requestPermission.bind(Real)
  window.Notification = Recorded
  Object.defineProperty(document, 'visibilityState', {
    configurable: true,
    get: () => (window.__hidden ? 'hidden' : 'visible'),
  })
`

export interface ShownNotification {
  title: string
  body: string
}

/** The notifications the page showed so far (RECORD_NOTIFICATIONS). */
export const shownNotifications = (page: Page): Promise<ShownNotification[]> =>
  page.evaluate(() => (window as unknown as { __shown: ShownNotification[] }).__shown)

/** As if the user switched to another tab (hidden) or back (visible): RECORD_NOTIFICATIONS. */
export async function setHidden(page: Page, hidden: boolean): Promise<void> {
  await page.evaluate((h) => {
    ;(window as unknown as { __hidden?: boolean }).__hidden = h
    document.dispatchEvent(new Event('visibilitychange'))
  }, hidden)
}

/** One call on the control socket of the peer in `home` (a process the test started itself). */
export async function callHome<T>(
  home: string,
  method: string,
  params?: Record<string, unknown>,
): Promise<T> {
  const c = await Control.open(join(home, 'control.sock'))
  try {
    return await c.call<T>(method, params)
  } finally {
    c.close()
  }
}

/**
 * Clicks the navigation link `name` ("Chats" is "Chats 1 unread" once a message waits); when it
 * cannot, keeps a screenshot and the page's text under test-output/`shots` and fails.
 */
export async function navTo(page: Page, name: string, shots: string): Promise<void> {
  const link = page.getByRole('navigation').getByRole('link', { name: new RegExp(`^${name}( |$)`) })
  await waitOrKeepPage(page, link, shots, `nav-${name}`)
  await link.click({ timeout: 10_000 }).catch(async (error) => {
    await page.screenshot({ path: join(await outputDir(shots), `click-${name}.png`) })
    await writeFile(
      join(await outputDir(shots), `click-${name}.txt`),
      `${page.url()}\n${await page.locator('body').textContent()}`,
    )
    throw error
  })
}
