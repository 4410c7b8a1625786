/**
 * Link previews are made by the poster and travel inside the post, so a reader never fetches a
 * URL (which would tell the site who reads the feed, and when). The app that posts fetches the
 * page; this pure helper reads the title, description and image URL out of its HTML (Open Graph
 * tags first, then <title> and the description meta tag). Fetching and shrinking the image is the
 * app's job; `checkPreview` in schema.ts bounds what goes into a post.
 */
import { MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS } from './limits.js'

export interface ExtractedPreview {
  readonly title?: string
  readonly description?: string
  /** Absolute URL of the page's preview image, if it names one. */
  readonly imageUrl?: string
}

/** Reads at most the first 512 KiB of `html` (previews live in <head>). */
export function extractPreview(html: string, pageUrl: string): ExtractedPreview {
  const head = html.slice(0, 512 * 1024)
  const metas = new Map<string, string>()
  for (const tag of head.matchAll(/<meta\b[^>]*>/gi)) {
    const attrs = attributes(tag[0])
    const name = (attrs.get('property') ?? attrs.get('name'))?.toLowerCase()
    const content = attrs.get('content')
    if (name !== undefined && content !== undefined && !metas.has(name)) metas.set(name, content)
  }
  const titleTag = /<title\b[^>]*>([\s\S]*?)<\/title>/i.exec(head)?.[1]
  const title = clean(metas.get('og:title') ?? metas.get('twitter:title') ?? titleTag, MAX_TITLE_CHARS)
  const description = clean(
    metas.get('og:description') ?? metas.get('twitter:description') ?? metas.get('description'),
    MAX_DESCRIPTION_CHARS,
  )
  const image = metas.get('og:image') ?? metas.get('twitter:image')
  let imageUrl: string | undefined
  if (image !== undefined) {
    try {
      const u = new URL(decodeEntities(image.trim()), pageUrl)
      if (u.protocol === 'https:' || u.protocol === 'http:') imageUrl = u.toString()
    } catch {
      imageUrl = undefined
    }
  }
  const out: { title?: string; description?: string; imageUrl?: string } = {}
  if (title) out.title = title
  if (description) out.description = description
  if (imageUrl) out.imageUrl = imageUrl
  return out
}

function attributes(tag: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const m of tag.matchAll(/([a-zA-Z:-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))/g)) {
    out.set(m[1]!.toLowerCase(), m[3] ?? m[4] ?? m[5] ?? '')
  }
  return out
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' }

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code =
        body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number(body.slice(1))
      return Number.isInteger(code) && code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff)
        ? String.fromCodePoint(code)
        : whole
    }
    return ENTITIES[body.toLowerCase()] ?? whole
  })
}

function clean(text: string | undefined, max: number): string | undefined {
  if (text === undefined) return undefined
  const flat = decodeEntities(text)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what we drop
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  const points = [...flat]
  return points.length > max ? `${points.slice(0, max - 1).join('')}…` : flat
}
