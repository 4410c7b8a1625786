/**
 * The bytes of our posts' attachments, offered to contacts through the files layer as a post's
 * attachment (FileOffer purpose 'post-attachment': never a chat message, never unread).
 *
 * A new post's attachments go to every contact accepted at that moment (`offerNew`), with the
 * digest computed once for all of them. A contact accepted later still sees the post (the feed
 * syncs its history), so its pictures must follow: whenever a contact becomes accepted, and once
 * at start (a crash may have cut an offer short), each attachment of our latest posts that was
 * never offered to that contact is forwarded to them from a file we still hold (the sent source,
 * or a received copy; `FileService.forward` checks the bytes are still the same).
 *
 * The transfers themselves are the record of what was offered to whom, so nothing else is
 * stored and every pass is idempotent. Passes and new posts' offers run one at a time, so no
 * attachment is offered twice to one contact.
 */
import type { ContactView, FileService, Logger, Messenger, TransferView } from '@jiayi/core'
import type { PreparedAttachment } from './attachment-source.js'

export interface AttachmentOffersInit {
  readonly messenger: Pick<Messenger, 'contactList' | 'events'>
  readonly files: Pick<FileService, 'sendFile' | 'transfers' | 'forward'>
  /** The SHA-256 (hex) of each attachment of our latest posts. */
  readonly recentOwn: () => ReadonlySet<string>
  readonly log: Logger
}

export class AttachmentOffers {
  private chain: Promise<void> = Promise.resolve()
  private off: (() => void) | undefined
  private stopped = false

  constructor(private readonly init: AttachmentOffersInit) {}

  /** Watches for contacts becoming accepted and runs a first pass over every contact now. */
  start(): void {
    const { messenger } = this.init
    const states = new Map(messenger.contactList().map((c) => [c.id as string, c.state]))
    this.off = messenger.events.on('contact', (e) => {
      const before = states.get(e.id)
      const state = e.contact?.state
      if (state === undefined) states.delete(e.id)
      else states.set(e.id, state)
      if (state === 'accepted' && before !== 'accepted') void this.offerMissing([e.id])
    })
    void this.offerMissing()
  }

  stop(): void {
    this.stopped = true
    this.off?.()
  }

  /** Offers a new post's attachments to every accepted contact; resolves once each is queued. */
  offerNew(attachments: readonly PreparedAttachment[]): Promise<void> {
    if (attachments.length === 0) return Promise.resolve()
    return this.exclusive(async () => {
      const contacts = this.init.messenger.contactList().filter((c) => c.state === 'accepted')
      for (const a of attachments) for (const contact of contacts) await this.offerOne(contact.id, a)
    })
  }

  /** Offers what is missing to `contactIds` (default: every accepted contact). Never throws. */
  offerMissing(contactIds?: readonly string[]): Promise<void> {
    return this.exclusive(() => this.pass(contactIds)).catch((error) =>
      this.init.log.warn('moments pictures not offered', { error: errorName(error) }),
    )
  }

  /** Runs `task` with no other offers in between. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const result = this.chain.then(task)
    this.chain = result.then(
      () => undefined,
      () => undefined,
    )
    return result
  }

  private async offerOne(contactId: string, a: PreparedAttachment): Promise<void> {
    if (this.stopped) return
    try {
      const source = await a.open()
      try {
        await this.init.files.sendFile(contactId, source, {
          name: a.ref.name,
          mime: a.ref.type,
          purpose: 'post-attachment',
          sha256: a.sha256,
        })
      } catch (error) {
        // Taken over by the files layer only once offered.
        await source.close().catch(() => undefined)
        throw error
      }
    } catch (error) {
      this.init.log.warn('moments attachment not offered', { contact: contactId, error: errorName(error) })
    }
  }

  private async pass(contactIds: readonly string[] | undefined): Promise<void> {
    if (this.stopped) return
    const wanted = this.init.recentOwn()
    if (wanted.size === 0) return
    const transfers = this.init.files.transfers()
    const offered = new Set(
      transfers.filter((t) => t.direction === 'out').map((t) => offerKey(t.contactId, t.sha256)),
    )
    const sources = readableCopies(transfers, wanted)
    const contacts = this.init.messenger
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
        await this.init.files.forward(copy.id, contactId, { purpose: 'post-attachment' })
        return
      } catch (error) {
        this.init.log.debug('a copy of a moments picture could not be forwarded', { error: errorName(error) })
      }
    }
    this.init.log.warn('a moments picture is no longer here to offer', { contact: contactId })
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
