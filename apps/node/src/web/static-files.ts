/**
 * The built web app's files (apps/web/dist), as `jiayi start`'s web server and a home node's HTTPS
 * server both serve them: app routes (no extension) get index.html, missing assets are 404s,
 * hashed assets are cached for good, text is sent gzipped (kept per file and mtime).
 */
import { readFile, stat } from 'node:fs/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { extname, join, normalize, sep } from 'node:path'
import { gzipSync } from 'node:zlib'

const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.webmanifest', '.svg', '.txt'])

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
}

export type Deny = (res: ServerResponse, status: number, text: string) => void

export function deny(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  res.end(text)
}

/** A GET/HEAD handler for the files under `dist`. */
export function staticFiles(dist: string) {
  const gzipped = new Map<string, { mtimeMs: number; body: Buffer }>()
  return async function serveStatic(req: IncomingMessage, res: ServerResponse, pathname: string) {
    let path: string
    try {
      path = normalize(decodeURIComponent(pathname))
    } catch {
      return deny(res, 400, 'bad path')
    }
    if (path.includes('\0') || path.split(/[\\/]/).includes('..')) return deny(res, 400, 'bad path')
    const root = normalize(dist + sep)
    let file = join(root, path)
    if (!file.startsWith(root)) return deny(res, 400, 'bad path')
    let info = await stat(file).catch(() => undefined)
    // App routes (no extension) get the app; missing assets are 404s.
    if (info === undefined || info.isDirectory()) {
      if (extname(path) !== '' && path !== '/') return deny(res, 404, 'not found')
      file = join(root, 'index.html')
      info = await stat(file).catch(() => undefined)
      if (info === undefined)
        return deny(
          res,
          503,
          'The web app is not built yet: run `npm run build:web` (npm start does it for you).',
        )
    }
    const ext = extname(file)
    const hashed = /[/\\]assets[/\\]/.test(file)
    const gzip = COMPRESSIBLE.has(ext) && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''))
    let body: Buffer
    if (gzip) {
      let kept = gzipped.get(file)
      if (kept === undefined || kept.mtimeMs !== info.mtimeMs) {
        kept = { mtimeMs: info.mtimeMs, body: gzipSync(await readFile(file), { level: 9 }) }
        gzipped.set(file, kept)
      }
      body = kept.body
    } else body = await readFile(file)
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-length': String(body.length),
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
      vary: 'Accept-Encoding',
      ...(gzip ? { 'content-encoding': 'gzip' } : {}),
    })
    if (req.method === 'HEAD') return void res.end()
    res.end(body)
  }
}
