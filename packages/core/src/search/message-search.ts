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
 *
 * Other sources (results.ts: the Moments feed) add their hits to each search, ranked with these.
 */

import type { MessengerCore } from '../messenger/core.js'
import type { ContactId, MessageId } from '../messenger/ids.js'
import type { MessageRecord } from '../messenger/records.js'
import type { BatchOp } from '../store/store.js'
import { BurstRunner } from './burst-runner.js'
import { type IndexedDoc, Postings } from './postings.js'
import type { SearchOptions, SearchResult, SearchSource } from './results.js'
import { queryTokens, tokensOf } from './tokens.js'

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
  private readonly off: () => void
  private stopped = false
  private readonly burst = new BurstRunner({
    delayMs: INDEX_DELAY_MS,
    maxWaitMs: INDEX_MAX_WAIT_MS,
    run: () => this.flush(),
    failed: (error) => this.core.log.warn('search indexing failed', { error }),
  })
  private readonly postings: Postings
  private readonly sources = new Set<SearchSource>()

  constructor(private readonly core: MessengerCore) {
    this.postings = new Postings(core.store)
    this.off = core.events.on('message', (e) => {
      const ids = this.pending.get(e.contactId) ?? new Set<MessageId>()
      if (e.change === 'update') ids.add(e.message.id)
      this.pending.set(e.contactId, ids)
      this.burst.schedule()
    })
  }

  /** Catches every conversation up (a store from before search, or a crash), in the background. */
  start(): void {
    for (const c of this.core.contacts.all()) if (!this.pending.has(c.id)) this.pending.set(c.id, new Set())
    this.burst.schedule(0)
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.off()
    await this.burst.stop()
  }

  /** Indexes now what waits (once: messages arriving meanwhile wait for the next turn). */
  async settled(): Promise<void> {
    await this.burst.settled()
  }

  /** Adds `source`'s hits to every search, until the returned function is called. */
  addSource(source: SearchSource): () => void {
    this.sources.add(source)
    return () => this.sources.delete(source)
  }

  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const limit = options.limit ?? DEFAULT_SEARCH_LIMIT
    const tokens = queryTokens(query)
    if (tokens.length === 0) return []
    await this.settled()
    const results: SearchResult[] = [...this.contactsMatching(query, options.contact)]
    const others = [...this.sources].map((s) =>
      s.search(tokens, { contact: options.contact, limit }).catch((error: unknown) => {
        // One source failing leaves the others' hits.
        this.core.log.warn('a search source failed', {
          error: error instanceof Error ? error.name : 'unknown',
        })
        return []
      }),
    )
    const hits: SearchResult[] = []
    // The newest (highest) numbers are checked first.
    for (const n of await this.postings.matching(tokens)) {
      if (hits.length >= limit) break
      const at = await this.postings.ref(n)
      if (at === undefined || (options.contact !== undefined && at.group !== options.contact)) continue
      const ref = { cid: at.group as ContactId, id: at.id as MessageId }
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
    for (const more of await Promise.all(others)) hits.push(...more)
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
    const marked = await this.postings.mark(cid)
    const mark = marked === undefined ? undefined : Number(marked)
    let seq = mark ?? 0
    let batch: IndexedDoc[] = []
    const write = async () => {
      const ops: BatchOp[] = await this.postings.addOps(batch)
      ops.push(this.postings.markOp(cid, String(seq)))
      await this.core.store.batch(ops)
      batch = []
    }
    for await (const m of this.core.conversations.after(cid, seq)) {
      const found = searchableText(m)
      if (found !== undefined) batch.push({ group: cid, id: m.id, tokens: [...tokensOf(found.text)] })
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
      ops.push(...(await this.postings.addOps([{ group: cid, id, tokens: [...tokensOf(found.text)] }])))
    if (ops.length > 0) await this.core.store.batch(ops)
  }
}
