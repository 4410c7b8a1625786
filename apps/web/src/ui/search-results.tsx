/**
 * Search from the Chats screen: messages, file names, Moments posts and comments, and contacts
 * matching every word typed (the API's `search`, local to the peer). A message opens its
 * conversation scrolled to it and highlighted; a post or comment opens Moments at its post,
 * likewise; a contact opens the chat with them.
 */
import type { ContactView, SearchResult } from '@jiayi/api'
import { useEffect, useState } from 'preact/hooks'
import { formatTime, t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { focusMessageNext, focusPost } from '../lib/focus-message.js'
import { shownName } from '../lib/names.js'
import { go } from '../lib/router.js'
import { Avatar } from './avatar.js'

const TYPING_PAUSE_MS = 250

function open(h: SearchResult): void {
  if (h.kind === 'post' || h.kind === 'comment') {
    focusPost.next(h.postId ?? h.id)
    go({ name: 'moments' })
    return
  }
  if (h.kind !== 'contact') focusMessageNext(h.id)
  go({ name: 'chat', id: h.contactId })
}

/** What goes before a hit's text: which kind of thing it is, when not a message. */
function label(h: SearchResult): string {
  if (h.kind === 'file') return '📎 '
  if (h.kind === 'post') return `${t('chats.searchPost')} · `
  if (h.kind === 'comment') return `${t('chats.searchComment')} · `
  return ''
}

/** `text` with each occurrence of the query's words marked. */
function Marked(props: { text: string; query: string }) {
  const words = props.query
    .trim()
    .split(/\s+/)
    .filter(Boolean)
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
  if (words.length === 0) return <>{props.text}</>
  const parts = props.text.split(new RegExp(`(${words.join('|')})`, 'giu'))
  return <>{parts.map((p, i) => (i % 2 === 1 ? <mark key={i}>{p}</mark> : p))}</>
}

export function SearchResults(props: { query: string }) {
  const client = useClient()
  const contacts = useQuery('contactList', {}, { events: ['contact'] })
  const [hits, setHits] = useState<SearchResult[] | undefined>(undefined)
  useEffect(() => {
    let live = true
    const timer = setTimeout(() => {
      client
        .call('search', { query: props.query, limit: 100 })
        .then((r) => live && setHits(r))
        .catch(() => live && setHits([]))
    }, TYPING_PAUSE_MS)
    return () => {
      live = false
      clearTimeout(timer)
    }
  }, [client, props.query])
  const byId = new Map((contacts.data ?? []).map((c) => [c.id as string, c] as [string, ContactView]))
  if (hits === undefined) return <p class="hint" aria-busy="true" />
  if (hits.length === 0) return <p class="hint">{t('chats.searchNone')}</p>
  return (
    <ul class="rows search-results" aria-label={t('chats.searchResults')}>
      {hits.map((h) => {
        const c = byId.get(h.contactId)
        const name = h.me ? t('moments.you') : c ? shownName(c) : h.contactId
        return (
          <li key={`${h.kind}-${h.id}`}>
            <button type="button" class="row" onClick={() => open(h)}>
              <Avatar name={name} id={h.contactId} picture={c?.picture} />
              <span class="row-main">
                <span class="row-top">
                  <span class="row-title">{name}</span>
                  {h.kind !== 'contact' && (
                    <time class="row-time" dateTime={h.sentAt}>
                      {formatTime(h.sentAt)}
                    </time>
                  )}
                </span>
                <span class="row-bottom">
                  <span class="row-text">
                    {h.kind === 'contact' ? t('chats.searchContact') : label(h)}
                    {h.kind !== 'contact' && <Marked text={h.text} query={props.query} />}
                  </span>
                </span>
              </span>
            </button>
          </li>
        )
      })}
    </ul>
  )
}
