/**
 * Local search over conversations (texts and file names) and contacts (names and remarks).
 *
 * The index lives in the messenger's own store (postings.ts), so it is sealed at rest like
 * everything else: on disk a token is a keyed name, never the word.
 *
 * Indexing follows the conversation, not the message's own write: messages come in at thousands
 * a second and must not wait for it. It runs once a burst is over, from each conversation's
 * mark, so a crash or a store written before search existed is caught up at the next start. An
 * edit or delete re-indexes its message. Every hit is checked against the message as it is now,
 * so an index a crash left behind never shows a wrong result.
 */
import type { MessengerCore } from '../messenger/core.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import type { MessageRecord } from '../messenger/records.js'
import type { BatchOp } from '../store/store.js'
import { type IndexedMessage, Postings } from './postings.js'
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

/**
 * New messages are indexed once the conversation has been quiet this long (a burst is indexed
 * after it, not while it arrives), and at the latest after INDEX_MAX_WAIT_MS.
 */
const INDEX_DELAY_MS = 500
const INDEX_MAX_WAIT_MS = 5_000
/** Messages per batch write while catching up. */
const BATCH = 500
export const DEFAULT_SEARCH_LIMIT = 50

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

/** What forgetting a contact removes of the index: their messages' numbers and the mark. */
export async function forgetSearch(
  core: Pick<MessengerCore, 'store'>,
  cid: ContactId,
  del: (k: Uint8Array) => void,
): Promise<void> {
  await new Postings(core.store).forget(cid, del)
}

export class MessageSearch {
  private readonly pending = new Map<ContactId, Set<MessageId>>()
  private timer: ReturnType<typeof setTimeout> | undefined
  /** When the oldest change not yet indexed came. */
  private waitingSince: number | undefined
  private running: Promise<void> = Promise.resolve()
  private readonly off: () => void
  private stopped = false
  private readonly postings: Postings

  constructor(private readonly core: MessengerCore) {
    this.postings = new Postings(core.store)
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

  /** Indexes now what waits (once: messages arriving meanwhile wait for the next turn). */
  async settled(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
      this.waitingSince = undefined
      this.flushNext()
    }
    await this.running
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const limit = options.limit ?? DEFAULT_SEARCH_LIMIT
    const tokens = queryTokens(query)
    if (tokens.length === 0) return []
    await this.settled()
    const results: SearchResult[] = [...this.contactsMatching(query, options.contact)]
    // The rarest token's numbers first; the newest (highest) numbers are checked first.
    const sets = await Promise.all(tokens.map((t) => this.postings.numbers(t)))
    sets.sort((a, b) => a.size - b.size)
    const [first, ...rest] = sets
    const candidates = [...(first ?? [])].filter((n) => rest.every((set) => set.has(n))).sort((a, b) => b - a)
    const hits: SearchResult[] = []
    for (const n of candidates) {
      if (hits.length >= limit) break
      const ref = await this.postings.ref(n)
      if (ref === undefined || (options.contact !== undefined && ref.cid !== options.contact)) continue
      const m = await this.core.conversations.message(ref.cid, ref.id)
      const found = m && searchableText(m)
      if (m === undefined || found === undefined) continue
      // Checked against the message as it is now: an index a crash left behind shows nothing wrong.
      const now = tokensOf(found.text)
      if (!tokens.every((t) => now.has(t))) continue
      hits.push({
        kind: found.kind,
        id: ref.id,
        contactId: ref.cid,
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
      this.flushNext()
    }, delay)
  }

  /** Indexes after whatever indexing runs now; a failure is logged, and the next turn tries again. */
  private flushNext(): void {
    this.running = this.running
      .then(() => this.flush())
      .catch((error) => {
        this.core.log.warn('search indexing failed', {
          error: error instanceof Error ? error.name : 'unknown',
        })
      })
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
    const mark = await this.postings.mark(cid)
    let seq = mark ?? 0
    let batch: IndexedMessage[] = []
    const write = async () => {
      const ops: BatchOp[] = await this.postings.addOps(batch)
      ops.push(this.postings.markOp(cid, seq))
      await this.core.store.batch(ops)
      batch = []
    }
    for await (const m of this.core.conversations.after(cid, seq)) {
      const found = searchableText(m)
      if (found !== undefined) batch.push({ cid, id: m.id, tokens: [...tokensOf(found.text)] })
      seq = m.seq
      if (batch.length >= BATCH) {
        await write()
        if (this.stopped) return
      }
    }
    if (batch.length > 0 || mark === undefined || seq !== mark) await write()
  }

  /** An edited or deleted message: out under its old number, in again under a new one. */
  private async reindex(cid: ContactId, id: MessageId): Promise<void> {
    const ops = await this.postings.removeOps(cid, id)
    const m = await this.core.conversations.message(cid, id)
    const found = m && searchableText(m)
    if (found !== undefined)
      ops.push(...(await this.postings.addOps([{ cid, id, tokens: [...tokensOf(found.text)] }])))
    if (ops.length > 0) await this.core.store.batch(ops)
  }
}
