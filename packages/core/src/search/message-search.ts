/**
 * Local search over conversations (texts and file names) and contacts (names and remarks).
 *
 * The index lives in the messenger's own store, so it is sealed at rest like everything else: a
 * posting is `sx <token> <contact> <message>`, and on disk the token and ids are keyed names
 * (store/layout.ts), never the words. Each posting's value names its message, since a keyed name
 * cannot be read back. `sxdoc <contact> <message>` keeps what a message was indexed under (to
 * take it out again on an edit or a delete), and `sxmark <contact>` how far the conversation is
 * indexed.
 *
 * Indexing follows the conversation, not the message's own write: messages come in at thousands
 * a second and must not wait for it. It runs shortly after new messages, from each
 * conversation's mark, so a crash or a store written before search existed is caught up at the
 * next start. An edit or delete re-indexes its message. Every hit is checked against the message
 * as it is now, so an index a crash left behind never shows a wrong result.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import type { MessengerCore } from '../messenger/core.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import type { MessageRecord } from '../messenger/records.js'
import { key } from '../store/keys.js'
import type { BatchOp } from '../store/store.js'
import { queryTokens, tokensOf } from './tokens.js'

export type SearchKind = 'message' | 'file' | 'contact'

export interface SearchResult {
  readonly kind: SearchKind
  /** A message's id, or for a contact the contact id. */
  readonly id: string
  readonly contactId: ContactId
  /** The text that matched: the message, the file's name, or the contact's shown name. */
  readonly text: string
  /** When it was sent (a contact: when they were added), ISO 8601. */
  readonly sentAt: string
}

export interface SearchOptions {
  readonly contact?: ContactId | undefined
  readonly limit?: number | undefined
}

const SearchKeys = {
  posting: (token: string, cid: ContactId, id: MessageId) => key('sx', token, cid, id),
  postings: (token: string) => key('sx', token),
  doc: (cid: ContactId, id: MessageId) => key('sxdoc', cid, id),
  mark: (cid: ContactId) => key('sxmark', cid),
}

/**
 * New messages are indexed once the conversation has been quiet this long (a burst is indexed
 * after it, not while it arrives), and at the latest after INDEX_MAX_WAIT_MS.
 */
const INDEX_DELAY_MS = 500
const INDEX_MAX_WAIT_MS = 5_000
/** Messages per batch write while catching up. */
const BATCH = 500
export const DEFAULT_SEARCH_LIMIT = 50
/** A query token found in more messages than this is not used to narrow (a word in everything). */
const MAX_POSTINGS = 200_000

/** What a message is found by: its text, or a file's name. */
function searchableText(m: MessageRecord): { kind: 'message' | 'file'; text: string } | undefined {
  if (m.deleted) return undefined
  const ext = m.extension
  if (ext?.kind === 'file-offer') {
    const name = (ext.data as { name?: unknown } | null)?.name
    return typeof name === 'string' ? { kind: 'file', text: name } : undefined
  }
  if (ext !== undefined) return undefined // session notices and the like: said by the app
  return m.text === '' ? undefined : { kind: 'message', text: m.text }
}

/** What forgetting a contact removes of the index: their postings, documents and mark. */
export async function forgetSearch(
  core: Pick<MessengerCore, 'store'>,
  cid: ContactId,
  del: (k: Uint8Array) => void,
): Promise<void> {
  for await (const [k, v] of core.store.iterate({ prefix: key('sxdoc', cid) })) {
    const doc = JSON.parse(fromUtf8(v)) as { id: MessageId; tokens: string[] }
    for (const token of doc.tokens) del(SearchKeys.posting(token, cid, doc.id))
    del(k)
  }
  del(SearchKeys.mark(cid))
}

export class MessageSearch {
  private readonly pending = new Map<ContactId, Set<MessageId>>()
  private timer: ReturnType<typeof setTimeout> | undefined
  /** When the oldest change not yet indexed came. */
  private waitingSince: number | undefined
  private running: Promise<void> = Promise.resolve()
  private readonly off: () => void
  private stopped = false

  constructor(private readonly core: MessengerCore) {
    this.off = core.events.on('message', (e) => {
      const ids = this.pending.get(e.contactId) ?? new Set<MessageId>()
      if (e.change === 'update') ids.add(e.message.id)
      this.pending.set(e.contactId, ids)
      this.schedule()
    })
  }

  /** Catches every conversation up (a store from before search, or a crash), in the background. */
  start(): void {
    for (const c of this.core.contacts.all()) if (!this.pending.has(c.id)) this.pending.set(c.id, new Set())
    this.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.off()
    clearTimeout(this.timer)
    await this.running
  }

  /** Waits until everything said so far is indexed (tests, and a search right after a send). */
  async settled(): Promise<void> {
    while (this.pending.size > 0 || this.timer !== undefined) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer)
        this.timer = undefined
        this.waitingSince = undefined
        this.running = this.running.then(() => this.flush())
      }
      await this.running
    }
    await this.running
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const limit = options.limit ?? DEFAULT_SEARCH_LIMIT
    const tokens = queryTokens(query)
    if (tokens.length === 0) return []
    await this.settled()
    const results: SearchResult[] = [...this.contactsMatching(query, options.contact)]
    // The rarest token first: the fewer postings read, the sooner the answer.
    const lists: Map<string, { cid: ContactId; id: MessageId }>[] = []
    for (const token of tokens) {
      const list = await this.postings(token, options.contact)
      if (list === undefined) continue
      if (list.size === 0) return results.slice(0, limit)
      lists.push(list)
    }
    lists.sort((a, b) => a.size - b.size)
    const [first, ...rest] = lists
    const hits: SearchResult[] = []
    for (const [ref, { cid, id }] of first ?? new Map()) {
      if (!rest.every((l) => l.has(ref))) continue
      const m = await this.core.conversations.message(cid, id)
      const found = m && searchableText(m)
      if (m === undefined || found === undefined) continue
      // Checked against the message as it is now: an index a crash left behind shows nothing wrong.
      const now = tokensOf(found.text)
      if (!tokens.every((t) => now.has(t))) continue
      hits.push({
        kind: found.kind,
        id,
        contactId: cid,
        text: found.text,
        sentAt: new Date(m.sentAt).toISOString(),
      })
    }
    hits.sort((a, b) => b.sentAt.localeCompare(a.sentAt))
    return [...results, ...hits].slice(0, limit)
  }

  private contactsMatching(query: string, only: ContactId | undefined): SearchResult[] {
    const q = query.normalize('NFKC').toLowerCase().trim()
    return this.core.contacts
      .all()
      .filter((c) => only === undefined || c.id === only)
      .filter((c) => [c.name, c.remark ?? ''].some((n) => n.normalize('NFKC').toLowerCase().includes(q)))
      .map((c) => ({
        kind: 'contact' as const,
        id: c.id,
        contactId: c.id,
        text: c.remark ?? c.name,
        sentAt: new Date(c.addedAt).toISOString(),
      }))
  }

  /** The messages under `token` (by "cid:id"), or undefined when it is too common to narrow. */
  private async postings(
    token: string,
    only: ContactId | undefined,
  ): Promise<Map<string, { cid: ContactId; id: MessageId }> | undefined> {
    const out = new Map<string, { cid: ContactId; id: MessageId }>()
    const prefix = only === undefined ? SearchKeys.postings(token) : key('sx', token, only)
    for await (const [, value] of this.core.store.iterate({ prefix })) {
      const ref = fromUtf8(value)
      const at = ref.indexOf(':')
      out.set(ref, { cid: ref.slice(0, at) as ContactId, id: ref.slice(at + 1) as MessageId })
      if (out.size > MAX_POSTINGS) return undefined
    }
    return out
  }

  private schedule(delay = INDEX_DELAY_MS): void {
    if (this.stopped) return
    const now = Date.now()
    this.waitingSince ??= now
    if (this.timer !== undefined) {
      if (now - this.waitingSince >= INDEX_MAX_WAIT_MS) return // due soon anyway
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.waitingSince = undefined
      this.running = this.running
        .then(() => this.flush())
        .catch((error) => {
          this.core.log.warn('search indexing failed', {
            error: error instanceof Error ? error.name : 'unknown',
          })
        })
    }, delay)
  }

  private async flush(): Promise<void> {
    const work = [...this.pending]
    this.pending.clear()
    for (const [cid, changed] of work) {
      if (this.stopped || this.core.contacts.get(cid) === undefined) continue
      await this.catchUp(cid)
      for (const id of changed) await this.reindex(cid, id)
    }
  }

  /** Indexes the conversation's messages past its mark. */
  private async catchUp(cid: ContactId): Promise<void> {
    const markBytes = await this.core.store.get(SearchKeys.mark(cid))
    let mark = markBytes === undefined ? 0 : Number(fromUtf8(markBytes))
    let ops: BatchOp[] = []
    for await (const m of this.core.conversations.after(cid, mark)) {
      ops.push(...this.opsFor(cid, m))
      mark = m.seq
      if (ops.length >= BATCH) {
        ops.push({ type: 'put', key: SearchKeys.mark(cid), value: utf8(String(mark)) })
        await this.core.store.batch(ops)
        ops = []
        if (this.stopped) return
      }
    }
    if (ops.length > 0 || markBytes === undefined) {
      ops.push({ type: 'put', key: SearchKeys.mark(cid), value: utf8(String(mark)) })
      await this.core.store.batch(ops)
    }
  }

  /** An edited or deleted message: its old tokens out, its new ones in. */
  private async reindex(cid: ContactId, id: MessageId): Promise<void> {
    const m = await this.core.conversations.message(cid, id)
    const doc = await this.core.store.get(SearchKeys.doc(cid, id))
    const before = doc === undefined ? [] : (JSON.parse(fromUtf8(doc)) as { tokens: string[] }).tokens
    const ops = m === undefined ? [] : this.opsFor(cid, m)
    for (const token of before) ops.unshift({ type: 'del', key: SearchKeys.posting(token, cid, id) })
    if (m === undefined || searchableText(m) === undefined)
      ops.push({ type: 'del', key: SearchKeys.doc(cid, id) })
    if (ops.length > 0) await this.core.store.batch(ops)
  }

  private opsFor(cid: ContactId, m: MessageRecord): BatchOp[] {
    const found = searchableText(m)
    if (found === undefined) return []
    const tokens = [...tokensOf(found.text)]
    const ref = utf8(`${cid}:${m.id}`)
    const ops: BatchOp[] = tokens.map((t) => ({
      type: 'put',
      key: SearchKeys.posting(t, cid, m.id),
      value: ref,
    }))
    ops.push({
      type: 'put',
      key: SearchKeys.doc(cid, m.id),
      value: utf8(JSON.stringify({ id: m.id, tokens })),
    })
    return ops
  }
}
