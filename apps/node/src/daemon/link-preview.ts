/**
 * Link previews, made by the poster's peer when it posts, so readers never fetch the URL: the
 * page's title, description and a small image, fetched with tight bounds (4 s, 512 KiB of HTML,
 * the feed's image size and types). Anything that fails or is too big is left out; the link
 * itself always stays. Fetching tells the site the poster's address: `jiayi start
 * --no-link-previews` turns it off.
 *
 * Only public web servers are asked (@jiayi/feed preview-target.ts): each URL of a redirect chain
 * is checked, its host name resolved here, every address checked, and the socket opened to
 * exactly the address that was checked (so a name cannot answer "public" to the check and
 * "127.0.0.1" to the connection). Redirects are followed by hand for that reason.
 */
import { lookup } from 'node:dns/promises'
import { request as httpRequest, type IncomingMessage } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { isIP, type LookupFunction, connect as netConnect, type Socket } from 'node:net'
import { connect as tlsConnect } from 'node:tls'
import {
  checkPreviewUrl,
  checkResolved,
  extractPreview,
  type LinkPreview,
  limits,
  MAX_PREVIEW_REDIRECTS,
  PreviewError,
  previewPort,
} from '@jiayi/feed'

const TIMEOUT_MS = 4_000
const MAX_PAGE_BYTES = 512 * 1024
const USER_AGENT = 'jiayi-link-preview/1'

/** The address a checked URL is fetched from. */
export interface PreviewTarget {
  readonly address: string
  readonly port: number
  readonly tls: boolean
  /** The URL's host name (for TLS: SNI and the certificate check). */
  readonly hostname: string
}

/** How previews reach the network: name resolution and sockets (tests route them to loopback). */
export interface PreviewNet {
  resolve(hostname: string): Promise<readonly string[]>
  connect(target: PreviewTarget): Socket
}

export const systemPreviewNet: PreviewNet = {
  async resolve(hostname) {
    return (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address)
  },
  connect(t) {
    if (!t.tls) return netConnect({ host: t.address, port: t.port })
    return tlsConnect({
      host: t.address,
      port: t.port,
      // The certificate must name the URL's host, whatever address it was reached at.
      servername: isIP(t.hostname) ? undefined : t.hostname,
      ALPNProtocols: ['http/1.1'],
    })
  },
}

/** Refusals by PreviewError code (bad scheme or port, private address, ...). */
export type PreviewRefusals = Map<string, number>

export class LinkPreviewer {
  readonly refusals: PreviewRefusals = new Map()

  constructor(private readonly net: PreviewNet = systemPreviewNet) {}

  /** One preview per URL; a URL that cannot be previewed comes back bare. */
  makeAll(urls: readonly string[]): Promise<LinkPreview[]> {
    return Promise.all(urls.map((url) => this.make(url).catch(() => ({ url }))))
  }

  async make(url: string): Promise<LinkPreview> {
    const page = await this.get(url, 'text/html', TIMEOUT_MS)
    if (page === undefined) return { url }
    if (!(page.response.headers['content-type'] ?? '').includes('html')) {
      page.response.destroy()
      return { url }
    }
    const html = await boundedBody(page.response, MAX_PAGE_BYTES)
    if (html === undefined) return { url }
    const found = extractPreview(new TextDecoder().decode(html), page.url)
    const preview: { url: string; title?: string; description?: string; image?: LinkPreview['image'] } = {
      url,
    }
    if (found.title !== undefined) preview.title = found.title
    if (found.description !== undefined) preview.description = found.description
    if (found.imageUrl !== undefined) {
      const image = await this.get(found.imageUrl, 'image/*', TIMEOUT_MS)
      const type = image?.response.headers['content-type']?.split(';')[0]?.trim().toLowerCase()
      if (image !== undefined && type !== undefined && limits.PREVIEW_IMAGE_TYPES.includes(type)) {
        const bytes = await boundedBody(image.response, limits.MAX_PREVIEW_IMAGE_BYTES)
        if (bytes !== undefined && bytes.length > 0) preview.image = { type, bytes }
      } else {
        image?.response.destroy()
      }
    }
    return preview
  }

  /**
   * GET `url`, following redirects, each hop checked: the 2xx response and the URL it came from,
   * or undefined (refused, failed, not 2xx). A refusal is counted.
   */
  private async get(
    url: string,
    accept: string,
    timeoutMs: number,
  ): Promise<{ response: IncomingMessage; url: string } | undefined> {
    const signal = AbortSignal.timeout(timeoutMs)
    let current = url
    try {
      for (let hop = 0; hop <= MAX_PREVIEW_REDIRECTS; hop++) {
        const u = checkPreviewUrl(current)
        const hostname = u.hostname.replace(/^\[|\]$/g, '')
        const address = isIP(hostname) ? hostname : checkResolved(await this.net.resolve(hostname))
        const target = { address, port: previewPort(u), tls: u.protocol === 'https:', hostname }
        const response = await this.request(u, target, accept, signal)
        const status = response.statusCode ?? 0
        const location = response.headers.location
        if (status >= 300 && status < 400 && location !== undefined) {
          response.destroy()
          current = new URL(location, current).toString()
          continue
        }
        if (status >= 200 && status < 300) return { response, url: current }
        response.destroy()
        return undefined
      }
      throw new PreviewError('TooManyRedirects', 'too many redirects')
    } catch (error) {
      if (error instanceof PreviewError) {
        const code = (error as PreviewError).code
        this.refusals.set(code, (this.refusals.get(code) ?? 0) + 1)
      }
      return undefined
    }
  }

  private request(
    u: URL,
    target: PreviewTarget,
    accept: string,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const request = target.tls ? httpsRequest : httpRequest
      const req = request(
        {
          method: 'GET',
          host: target.hostname,
          port: target.port,
          path: `${u.pathname}${u.search}`,
          headers: { host: u.host, accept, 'user-agent': USER_AGENT },
          // No agent: with one, Node would open its own socket to `host` (a fresh DNS lookup of
          // the name) and ignore createConnection. The socket goes to the address that was
          // checked; a lookup that fails keeps any other path from resolving the name again.
          createConnection: () => this.net.connect(target),
          lookup: noLookup,
          signal,
        },
        resolve,
      )
      req.on('error', reject)
      req.end()
    })
  }
}

const noLookup: LookupFunction = (_hostname, _options, callback) =>
  callback(new Error('link previews connect to checked addresses only'), '')

/** A public address that stands for every routed name (TEST-NET would not pass the check). */
const ROUTED_ADDRESS = '93.184.215.14'

/**
 * For tests (the hidden `jiayi start --preview-via NAME=PORT`): NAME stands for a public web site
 * served over plain HTTP on 127.0.0.1:PORT. Such a name resolves to a public placeholder address,
 * and a connection to it goes to that port on loopback; any other name resolves to nothing and
 * any other connection fails, so nothing a test posts is fetched beyond this machine.
 */
export function routedPreviewNet(routes: ReadonlyMap<string, number>): PreviewNet {
  return {
    async resolve(hostname) {
      return routes.has(hostname.toLowerCase()) ? [ROUTED_ADDRESS] : []
    },
    connect(t) {
      const port = routes.get(t.hostname.toLowerCase())
      if (t.address !== ROUTED_ADDRESS || port === undefined || t.tls)
        throw new Error('no route for this preview target')
      return netConnect({ host: '127.0.0.1', port })
    },
  }
}

/** `--preview-via NAME=PORT` values as routes; throws on a malformed one. */
export function previewRoutes(values: readonly string[]): Map<string, number> {
  const routes = new Map<string, number>()
  for (const v of values) {
    const m = /^([a-z0-9.-]+)=(\d{1,5})$/i.exec(v)
    const port = Number(m?.[2])
    if (m === null || port < 1 || port > 65_535) throw new Error(`bad --preview-via ${v}: use NAME=PORT`)
    routes.set(m[1]!.toLowerCase(), port)
  }
  return routes
}

/** At most `max` bytes of a response body; undefined if it is longer (or fails). */
async function boundedBody(response: IncomingMessage, max: number): Promise<Uint8Array | undefined> {
  const parts: Uint8Array[] = []
  let total = 0
  try {
    for await (const chunk of response as AsyncIterable<Uint8Array>) {
      total += chunk.length
      if (total > max) {
        response.destroy()
        return undefined
      }
      parts.push(chunk)
    }
  } catch {
    return undefined
  }
  const out = new Uint8Array(total)
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}
