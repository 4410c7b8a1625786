/**
 * Opening the reactions (likes, comments) in the feeds a peer holds, with the keys it holds.
 *
 * The timeline is rebuilt on every change, so nothing is opened twice: per writer, a table from
 * hint to the (owner, epoch) keys that open it (one HMAC per key held, made once), and per sealed
 * value (the same object for as long as its doc holds it) the opened content. When the set of keys
 * changes, the tables are made again and what did not open is tried again (a key that arrives
 * opens it); what did open stays opened for as long as its key is held.
 */
import { bytesToHex } from '@jiayi/core'
import type * as Y from 'yjs'
import type { HeldKeys } from './held-keys.js'
import type { FeedId, ReactionId } from './ids.js'
import {
  openReaction,
  type ReactionContent,
  type ReactionKeys,
  reactionHint,
  reactionKeys,
} from './reactions.js'
import { type PostRef, readReactions } from './schema.js'

/** A reaction this peer can read: who wrote it is the feed it came from. */
export interface Reaction extends ReactionContent {
  readonly id: ReactionId
  /** The post it is about. */
  readonly target: PostRef
  /** The epoch of the post owner's key it is sealed under. */
  readonly epoch: number
}

/** An opening, or a failure to open valid while the set of keys is the one of `version`. */
type Opened = Reaction | { readonly failedAt: number }

export class ReactionReader {
  private version = -1
  private hints = new Map<FeedId, Map<string, ReactionKeys>>()
  private readonly opened = new WeakMap<object, Opened>()

  constructor(private readonly keys: HeldKeys) {}

  /** The reactions in `writer`'s doc that open with a key we hold; the rest are skipped unseen. */
  *read(writer: FeedId, doc: Y.Doc): Generator<Reaction> {
    this.refresh()
    for (const [id, sealed] of readReactions(doc)) {
      let result = this.opened.get(sealed)
      if (result === undefined || !this.stillValid(result)) {
        result = this.open(writer, id, sealed) ?? { failedAt: this.version }
        this.opened.set(sealed, result)
      }
      if ('id' in result) yield result
    }
  }

  /** The keys a new reaction to `target`'s posts is sealed with: its newest epoch we hold. */
  sealingKeys(target: FeedId): ReactionKeys | undefined {
    const epoch = this.keys.maxEpoch(target)
    const key = this.keys.key(target, epoch)
    return key === undefined ? undefined : reactionKeys(key, target, epoch)
  }

  private stillValid(result: Opened): boolean {
    if ('failedAt' in result) return result.failedAt === this.version
    return this.keys.key(result.target.feed, result.epoch) !== undefined
  }

  private open(
    writer: FeedId,
    id: ReactionId,
    sealed: { hint: Uint8Array; box: Uint8Array },
  ): Reaction | undefined {
    const keys = this.hintTable(writer).get(bytesToHex(sealed.hint))
    if (keys === undefined) return undefined
    const content = openReaction(keys, writer, id, sealed)
    if (content === undefined) return undefined
    return { ...content, id, target: { feed: keys.target, post: content.post }, epoch: keys.epoch }
  }

  private hintTable(writer: FeedId): Map<string, ReactionKeys> {
    let table = this.hints.get(writer)
    if (table !== undefined) return table
    table = new Map()
    for (const target of this.keys.feedIds()) {
      for (const epoch of this.keys.epochs(target)) {
        const key = this.keys.key(target, epoch)
        if (key === undefined) continue
        const k = reactionKeys(key, target, epoch)
        table.set(bytesToHex(reactionHint(k, writer)), k)
      }
    }
    this.hints.set(writer, table)
    return table
  }

  private refresh(): void {
    if (this.version === this.keys.keyVersion) return
    this.version = this.keys.keyVersion
    this.hints = new Map()
  }
}
