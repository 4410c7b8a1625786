/**
 * A conversation's history as a window of at most MAX_RENDERED messages: the newest page, kept
 * live (reloaded on events, which also marks it read), and older pages loaded on demand with the
 * `before` cursor. A window grown past MAX_RENDERED drops the pages farthest from where the reader
 * is going: the newest while they go back (the window is then no longer live, and pages forward
 * again with `after`), the oldest while they come back. So a history of any length keeps the
 * page's DOM bounded.
 */
import type { ApiMessage } from '@jiayi/api'
import { useCallback, useEffect, useRef, useState } from 'preact/hooks'
import { useClient, useQuery } from './client-context.js'

export const PAGE = 100
export const MAX_RENDERED = 400

export interface HistoryWindow {
  readonly items: readonly ApiMessage[]
  /** The window ends with the conversation's newest message. */
  readonly live: boolean
  /** The window starts with the conversation's first message. */
  readonly atStart: boolean
  /** The first page has arrived. */
  readonly loaded: boolean
}

const EMPTY: HistoryWindow = { items: [], live: true, atStart: false, loaded: false }

/** The live newest page merged into the window: what is older than it stays. */
export function withTail(w: HistoryWindow, tail: readonly ApiMessage[]): HistoryWindow {
  if (!w.live) return { ...w, items: patched(w.items, tail) }
  if (tail.length === 0) return { items: [], live: true, atStart: true, loaded: true }
  const at = w.items.findIndex((m) => m.id === tail[0]!.id)
  if (at < 0) return { items: tail, live: true, atStart: tail.length < PAGE, loaded: true }
  let items = [...w.items.slice(0, at), ...tail]
  let atStart = w.atStart
  // New messages while older pages are shown: the oldest go past a page over the bound.
  if (items.length > MAX_RENDERED + PAGE) {
    items = items.slice(items.length - MAX_RENDERED)
    atStart = false
  }
  return { items, live: true, atStart, loaded: true }
}

/** Older messages before the window; past the bound, the newest leave it. */
export function withOlder(w: HistoryWindow, page: readonly ApiMessage[], asked: number): HistoryWindow {
  const known = new Set(w.items.map((m) => m.id))
  let items = [...page.filter((m) => !known.has(m.id)), ...w.items]
  let live = w.live
  if (items.length > MAX_RENDERED) {
    items = items.slice(0, MAX_RENDERED)
    live = false
  }
  return { ...w, items, live, atStart: page.length < asked }
}

/** Newer messages after the window (one that is not live); past the bound, the oldest leave it. */
export function withNewer(w: HistoryWindow, page: readonly ApiMessage[], asked: number): HistoryWindow {
  const known = new Set(w.items.map((m) => m.id))
  let items = [...w.items, ...page.filter((m) => !known.has(m.id))]
  let atStart = w.atStart
  if (items.length > MAX_RENDERED) {
    items = items.slice(items.length - MAX_RENDERED)
    atStart = false
  }
  return { ...w, items, atStart, live: page.length < asked }
}

/** `items` with every message of `changed` that is among them in its new form. */
function patched(items: readonly ApiMessage[], changed: readonly ApiMessage[]): readonly ApiMessage[] {
  const byId = new Map(changed.map((m) => [m.id as string, m]))
  return items.some((m) => byId.has(m.id)) ? items.map((m) => byId.get(m.id) ?? m) : items
}

export interface History extends HistoryWindow {
  readonly error: unknown
  /** Loads the page before the window (no-op at the start or while a page loads). */
  loadOlder(): Promise<void>
  /** Loads the page after a window that is not live. */
  loadNewer(): Promise<void>
  /** The newest page again (after a reaction, a deletion). */
  reload(): void
  /** Back to the newest page, live, from wherever the window was (after a send). */
  toEnd(): void
}

export function useHistory(contactId: string | undefined): History {
  const client = useClient()
  const tail = useQuery('messages', contactId === undefined ? null : { contact: contactId, limit: PAGE }, {
    events: ['message', 'transfer'],
  })
  const [w, setW] = useState<HistoryWindow>(EMPTY)
  const current = useRef(w)
  current.current = w
  const loading = useRef(false)
  const generation = useRef(0)

  useEffect(() => {
    generation.current++
    loading.current = false
    setW(EMPTY)
  }, [contactId])

  useEffect(() => {
    if (tail.data !== undefined) setW((prev) => withTail(prev, tail.data!))
  }, [tail.data])

  // Changes to messages outside the newest page (a reaction, an edit, a file's progress).
  useEffect(
    () =>
      client.on('message', (e) => {
        if (e.contactId !== contactId || e.change !== 'update') return
        setW((prev) => ({ ...prev, items: patched(prev.items, [e.message]) }))
      }),
    [client, contactId],
  )

  const page = useCallback(
    async (direction: 'older' | 'newer') => {
      const now = current.current
      if (contactId === undefined || loading.current || now.items.length === 0) return
      if (direction === 'older' ? now.atStart : now.live) return
      loading.current = true
      const mine = generation.current
      try {
        const cursor = direction === 'older' ? { before: now.items[0]!.id } : { after: now.items.at(-1)!.id }
        const got = await client.call('messages', { contact: contactId, limit: PAGE, peek: true, ...cursor })
        if (mine !== generation.current) return
        setW((prev) => (direction === 'older' ? withOlder(prev, got, PAGE) : withNewer(prev, got, PAGE)))
        // Back at the end: the newest page again, live (and read).
        if (direction === 'newer' && got.length < PAGE) tail.reload()
      } finally {
        if (mine === generation.current) loading.current = false
      }
    },
    [client, contactId, tail.reload],
  )

  return {
    ...w,
    error: tail.error,
    loadOlder: () => page('older'),
    loadNewer: () => page('newer'),
    reload: tail.reload,
    toEnd: () => {
      if (!current.current.live) {
        generation.current++
        loading.current = false
        setW(EMPTY)
      }
      tail.reload()
    },
  }
}
