/** Text with its http(s) links made clickable (opened in a new tab, no referrer, no opener). */
import type { JSX } from 'preact'

const URL_RE = /\bhttps?:\/\/[^\s<>"'`]+[^\s<>"'`.,;:!?)\]}]/gi

export function extractLinks(text: string): string[] {
  return [...new Set(text.match(URL_RE) ?? [])]
}

export function Linkified(props: { text: string }): JSX.Element {
  const parts: (string | JSX.Element)[] = []
  let last = 0
  for (const m of props.text.matchAll(URL_RE)) {
    const at = m.index ?? 0
    if (at > last) parts.push(props.text.slice(last, at))
    parts.push(
      <a key={at} href={m[0]} target="_blank" rel="noopener noreferrer nofollow">
        {m[0]}
      </a>,
    )
    last = at + m[0].length
  }
  if (last < props.text.length) parts.push(props.text.slice(last))
  return <>{parts}</>
}
