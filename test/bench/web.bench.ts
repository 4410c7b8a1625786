/**
 * Web app benchmarks, in Debian's headless Chromium against a real `jiayi start` on 127.0.0.1
 * (the app as the UI of a node, with one contact and a short chat):
 *
 * - web.initial_js_kb_gz: the JavaScript the page loads before its first render (the chats
 *   screen), each file gzipped (level 9), summed, in KiB. Goal ≤ 400. Baseline: the same measure
 *   for a Vite + Preact page that renders one line, built in this run.
 * - web.ready_ms: from navigation start to the chats screen with its list filled (median of 9
 *   cold loads, a fresh browser context each). Baseline: the same page's load to its first render.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import type { Browser } from 'playwright-core'
import { serveStatic } from '../browser/static-server.js'
import { cleanup, ensureWebBuilt, launchBrowser, NodePeer, ROOT } from '../web/helpers.js'
import { report } from './report.js'

const LOADS = 9

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]!
}

/** A Vite + Preact page that renders one line: the floor any such app starts from. */
async function buildBaseline(dir: string): Promise<void> {
  await mkdir(join(dir, 'src'), { recursive: true })
  await writeFile(
    join(dir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>b</title></head><body><div id="app"></div><script type="module" src="/src/main.js"></script></body></html>',
  )
  await writeFile(
    join(dir, 'src', 'main.js'),
    "import { h, render } from 'preact'\nrender(h('h1', null, 'Ready'), document.getElementById('app'))\n",
  )
  const vite = join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js')
  const r = spawnSync(
    process.execPath,
    [vite, 'build', '--logLevel', 'warn', dir, '--outDir', join(dir, 'dist')],
    {
      cwd: join(ROOT, 'apps', 'web'),
      stdio: 'inherit',
    },
  )
  if (r.status !== 0) throw new Error('baseline build failed')
}

interface Load {
  readonly ms: number
  readonly jsKbGz: number
}

/**
 * One cold load in a fresh context: the page's own clock (performance.now(), from navigation
 * start) when `selector` first appears, and the gzipped JS fetched until then.
 */
async function load(browser: Browser, url: string, selector: string): Promise<Load> {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    serviceWorkers: 'block',
  })
  const page = await context.newPage()
  // Page-side (a string: this file is type-checked without the DOM).
  await page.addInitScript(`{
    const sel = ${JSON.stringify(selector)}
    const observer = new MutationObserver(() => {
      if (window.__readyAt === undefined && document.querySelector(sel)) {
        window.__readyAt = performance.now()
        observer.disconnect()
      }
    })
    observer.observe(document, { childList: true, subtree: true })
  }`)
  const scripts: Promise<number>[] = []
  let rendered = false
  page.on('response', (res) => {
    if (rendered || res.request().resourceType() !== 'script') return
    scripts.push(res.body().then((b) => gzipSync(b, { level: 9 }).length))
  })
  await page.goto(url, { waitUntil: 'commit' })
  await page.locator(selector).first().waitFor()
  rendered = true
  const ms = (await page.evaluate('window.__readyAt')) as number
  const bytes = (await Promise.all(scripts)).reduce((a, b) => a + b, 0)
  await context.close()
  return { ms, jsKbGz: bytes / 1024 }
}

async function main() {
  ensureWebBuilt()
  // Inside the repository (build/ is ignored), so the baseline resolves preact like the app does.
  await mkdir(join(ROOT, 'build'), { recursive: true })
  const work = await mkdtemp(join(ROOT, 'build', 'web-bench-'))
  const [alice, bob] = await Promise.all([NodePeer.start('Alice'), NodePeer.start('Bob')])
  const browser = await launchBrowser()
  const baseline = await (async () => {
    await buildBaseline(work)
    return serveStatic(join(work, 'dist'))
  })()
  try {
    // A node with a contact and a short conversation, so the chats screen has a row to show.
    const card = await bob.call<{ link: string }>('card')
    const bobAtAlice = await alice.call<{ id: string }>('addContact', { link: card.link })
    for (let i = 0; i < 50; i++) {
      const list = await bob.call<{ id: string; state: string }[]>('contactList')
      if (list[0]?.state === 'pending-in') {
        await bob.call('accept', { contact: list[0].id })
        break
      }
      await new Promise((r) => setTimeout(r, 100))
    }
    for (let i = 0; i < 10; i++) await alice.call('send', { contact: bobAtAlice.id, text: `message ${i}` })

    const app: Load[] = []
    const base: Load[] = []
    const baseUrl = `${baseline.url}/index.html`
    const appReady = '[data-testid=chat-list] .row'
    // One warm-up of each (the browser's own first-load costs), then interleaved measured loads.
    await load(browser, baseUrl, 'h1')
    await load(browser, alice.web, appReady)
    for (let i = 0; i < LOADS; i++) {
      base.push(await load(browser, baseUrl, 'h1'))
      app.push(await load(browser, alice.web, appReady))
    }
    report({
      bench: 'web.initial_js_kb_gz',
      value: median(app.map((l) => l.jsKbGz)),
      unit: 'KiB',
      baseline: 'vite_preact_hello_js_kb_gz',
      baselineValue: median(base.map((l) => l.jsKbGz)),
      goal: '<= 400',
    })
    report({
      bench: 'web.ready_ms',
      value: median(app.map((l) => l.ms)),
      unit: 'ms',
      baseline: 'vite_preact_hello_ready_ms',
      baselineValue: median(base.map((l) => l.ms)),
      loads: LOADS,
    })
  } finally {
    await browser.close()
    await baseline.close()
    await cleanup()
    await rm(work, { recursive: true, force: true })
  }
}

await main()
