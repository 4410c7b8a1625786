/**
 * Link previews, made by the poster's peer when it posts, so readers never fetch the URL: the
 * page's title, description and a small image, fetched with tight bounds (4 s, 512 KiB of HTML,
 * the feed's image size and types). Anything that fails or is too big is left out; the link
 * itself always stays. Fetching tells the site the poster's address: `jiayi start
 * --no-link-previews` turns it off.
 */
import { extractPreview, type LinkPreview, limits } from '@jiayi/feed'

const TIMEOUT_MS = 4_000
const MAX_PAGE_BYTES = 512 * 1024

export async function makeLinkPreviews(urls: readonly string[]): Promise<LinkPreview[]> {
  return Promise.all(urls.map((url) => makeLinkPreview(url).catch(() => ({ url }))))
}

export async function makeLinkPreview(url: string): Promise<LinkPreview> {
  if (!/^https?:\/\//i.test(url)) return { url }
  const page = await get(url, 'text/html')
  if (page === undefined || !(page.headers.get('content-type') ?? '').includes('html')) return { url }
  const html = await boundedBody(page, MAX_PAGE_BYTES)
  if (html === undefined) return { url }
  const found = extractPreview(new TextDecoder().decode(html), page.url || url)
  const preview: { url: string; title?: string; description?: string; image?: LinkPreview['image'] } = { url }
  if (found.title !== undefined) preview.title = found.title
  if (found.description !== undefined) preview.description = found.description
  if (found.imageUrl !== undefined) {
    const image = await get(found.imageUrl, 'image/*')
    const type = image?.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (image !== undefined && type !== undefined && limits.PREVIEW_IMAGE_TYPES.includes(type)) {
      const bytes = await boundedBody(image, limits.MAX_PREVIEW_IMAGE_BYTES)
      if (bytes !== undefined && bytes.length > 0) preview.image = { type, bytes }
    } else {
      await image?.body?.cancel().catch(() => undefined)
    }
  }
  return preview
}

async function get(url: string, accept: string): Promise<Response | undefined> {
  try {
    const response = await fetch(url, {
      headers: { accept, 'user-agent': 'jiayi-link-preview/1' },
      redirect: 'follow',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    })
    if (response.ok) return response
    await response.body?.cancel().catch(() => undefined)
    return undefined
  } catch {
    return undefined
  }
}

/** At most `max` bytes of a response body; undefined if it is longer (or fails). */
async function boundedBody(response: Response, max: number): Promise<Uint8Array | undefined> {
  const reader = response.body?.getReader()
  if (reader === undefined) return undefined
  const parts: Uint8Array[] = []
  let total = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      total += value.length
      if (total > max) {
        await reader.cancel().catch(() => undefined)
        return undefined
      }
      parts.push(value)
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
