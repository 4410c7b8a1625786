/**
 * The pictures of our own Moments posts for contacts who were not there when we posted.
 *
 * `post` offers each attachment to every contact accepted at that moment (feed-methods.ts). A
 * contact accepted later still sees the post (the feed syncs its history), so its pictures must
 * follow: whenever a contact is accepted, and once at start (a crash may have cut an offer
 * short), each of our recent posts' attachments that was never offered to that contact is
 * forwarded to them from a file we still hold (the sent source, or a received copy).
 *
 * The transfers themselves are the record of what was offered to whom, so nothing else is
 * stored and every pass is idempotent. Passes and `post`'s own offers run one at a time
 * (`exclusive`), so no attachment is offered twice to one contact.
 */
import type { ContactView, FileService, TransferView } from '@jiayi/core'
import type { ApiLog, FeedApi, MessengerApi } from './host.js'

/** Our posts whose attachments a newly accepted contact gets (the newest first). */
const RECENT_POSTS = 50

export interface MomentOffersHost {
  readonly messenger: Pick<MessengerApi, 'contactList' | 'events'>
  readonly files: Pick<FileService, 'transfers' | 'forward'>
  readonly feed: Pick<FeedApi, 'timeline'>
  readonly log?: ApiLog | undefined
}

export class MomentOffers {
  private chain: Promise<void> = Promise.resolve()
  private readonly off: () => void
  private stopped = false

  private constructor(private readonly host: MomentOffersHost) {
    const states = new Map(host.messenger.contactList().map((c) => [c.id as string, c.state]))
    this.off = host.messenger.events.on('contact', (e) => {
      const before = states.get(e.id)
      const state = e.contact?.state
      if (state === undefined) states.delete(e.id)
      else states.set(e.id, state)
      if (state === 'accepted' && before !== 'accepted') void this.offerMissing([e.id])
    })
  }

  /** Watches for accepted contacts and runs a first pass over every contact now. */
  static start(host: MomentOffersHost): MomentOffers {
    const offers = new MomentOffers(host)
    void offers.offerMissing()
    return offers
  }

  /** Runs `task` with no pass in between (post's own offers go through here). */
  exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.chain.then(task)
    this.chain = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  stop(): void {
    this.stopped = true
    this.off()
  }

  /** Offers what is missing to `contactIds` (default: every accepted contact). Never throws. */
  offerMissing(contactIds?: readonly string[]): Promise<void> {
    return this.exclusive(() => this.pass(contactIds)).catch((error) =>
      this.host.log?.warn('moments pictures not offered', { error: errorName(error) }),
    )
  }

  private async pass(contactIds: readonly string[] | undefined): Promise<void> {
    if (this.stopped) return
    const wanted = this.ownAttachmentHashes()
    if (wanted.size === 0) return
    const transfers = this.host.files.transfers()
    const offered = new Set(
      transfers.filter((t) => t.direction === 'out').map((t) => offerKey(t.contactId, t.sha256)),
    )
    const sources = readableCopies(transfers, wanted)
    const contacts = this.host.messenger
      .contactList()
      .filter((c: ContactView) => c.state === 'accepted' && (contactIds?.includes(c.id) ?? true))
    for (const contact of contacts) {
      for (const sha of wanted) {
        if (this.stopped) return
        if (offered.has(offerKey(contact.id, sha))) continue
        await this.forward(contact.id, sources.get(sha) ?? [])
      }
    }
  }

  /** Tries each copy we hold of the file until one is sent. */
  private async forward(contactId: string, copies: readonly TransferView[]): Promise<void> {
    for (const copy of copies) {
      try {
        await this.host.files.forward(copy.id, contactId, { purpose: 'post-attachment' })
        return
      } catch (error) {
        this.host.log?.debug('a copy of a moments picture could not be forwarded', {
          error: errorName(error),
        })
      }
    }
    this.host.log?.warn('a moments picture is no longer here to offer', { contact: contactId })
  }

  /** The SHA-256 (hex) of every attachment of our recent posts. */
  private ownAttachmentHashes(): Set<string> {
    const hashes = new Set<string>()
    let posts: ReturnType<FeedApi['timeline']>
    try {
      posts = this.host.feed.timeline({ limit: 1000 })
    } catch {
      return hashes // a stopped feed: nothing to offer
    }
    for (const post of posts.filter((p) => p.author.me).slice(0, RECENT_POSTS))
      for (const a of post.attachments) if (a.ref.startsWith('sha256:')) hashes.add(a.ref.slice(7))
    return hashes
  }
}

function offerKey(contactId: string, sha: string): string {
  return `${contactId}:${sha}`
}

/** For each wanted hash, the transfers whose bytes we still have: our sent sources first. */
function readableCopies(
  transfers: readonly TransferView[],
  wanted: ReadonlySet<string>,
): Map<string, TransferView[]> {
  const copies = new Map<string, TransferView[]>()
  const usable = transfers.filter(
    (t) => wanted.has(t.sha256) && t.path !== null && (t.direction === 'out' || t.status === 'complete'),
  )
  for (const t of [...usable].sort((a, b) =>
    a.direction === b.direction ? 0 : a.direction === 'out' ? -1 : 1,
  )) {
    const list = copies.get(t.sha256) ?? []
    // One attempt per distinct place is enough.
    if (!list.some((c) => c.path === t.path)) list.push(t)
    copies.set(t.sha256, list)
  }
  return copies
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : 'unknown'
}
