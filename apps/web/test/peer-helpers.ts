/**
 * What the in-page peer's browser tests share: the test page bundled with Vite (as the app is),
 * a static server for it, Debian's Chromium (fresh profile), real `jiayi start` node processes,
 * and typed calls into the page's `jiayiTest` API.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { bundleForBrowser } from '../../../test/browser/bundle.js'
import { type StaticServer, serveStatic } from '../../../test/browser/static-server.js'
import type { JiayiTestApi } from './peer-page/page.js'

export const PAGE_HTML = fileURLToPath(new URL('./peer-page/index.html', import.meta.url))

/** Bundles the test page into a temp folder; fails on any Node builtin in the bundle. */
export async function buildTestPage(): Promise<{ outDir: string; remove(): Promise<void> }> {
  const outDir = await mkdtemp(join(tmpdir(), 'jiayi-peer-page-'))
  const bundle = await bundleForBrowser(PAGE_HTML, outDir)
  if (bundle.nodeBuiltins.length > 0)
    throw new Error(`the in-page peer pulls in Node builtins: ${bundle.nodeBuiltins.join(', ')}`)
  return { outDir, remove: () => rm(outDir, { recursive: true, force: true }) }
}

export async function servePage(outDir: string): Promise<StaticServer> {
  return serveStatic(outDir)
}

type Api = JiayiTestApi
type Method = keyof Api

/** Calls `jiayiTest[method](...args)` in the page and returns its (JSON) result. */
export async function call<M extends Method>(
  page: Page,
  method: M,
  ...args: Parameters<Api[M]>
): Promise<Awaited<ReturnType<Api[M]>>> {
  return page.evaluate(
    ([m, a]) => {
      const api = (globalThis as unknown as { jiayiTest: Record<string, (...x: unknown[]) => unknown> })
        .jiayiTest
      return api[m as string]!(...(a as unknown[]))
    },
    [method, args] as const,
  ) as Promise<Awaited<ReturnType<Api[M]>>>
}

/** Opens the test page and waits for its API; page errors are collected into `problems`. */
export async function openTestPage(page: Page, url: string, problems: string[]): Promise<void> {
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  await page.goto(`${url}/index.html`)
  await page.waitForFunction(() => 'jiayiTest' in globalThis, undefined, { timeout: 10_000 })
}

/** Polls `check` until truthy. */
export async function until<T>(
  check: () => Promise<T> | T,
  timeoutMs = 15_000,
  what = 'condition',
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

/** The multiaddr (with /p2p/) of a node's listener of one transport. */
export function addrOf(addrs: readonly string[], transport: 'ws' | 'webrtc-direct'): string {
  const found = addrs.find((a) =>
    transport === 'ws' ? /\/ws\/p2p\//.test(a) : a.includes('/webrtc-direct/'),
  )
  if (found === undefined) throw new Error(`no ${transport} listener among ${addrs.join(' ')}`)
  return found
}
