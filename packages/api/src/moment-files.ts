/**
 * Pictures of Moments posts travel as files to each contact (feed-methods.ts), which would also
 * show them as file messages in the chat. Those are kept out of conversations: a file message
 * whose SHA-256 a visible post refers to (`sha256:<hex>`) belongs to Moments, not to the chat.
 * The set of referenced hashes is rebuilt lazily after each feed change.
 */
import type { MessageView } from '@jiayi/core'
import type { FeedApi } from './host.js'

const SCAN_POSTS = 1000

export class MomentFiles {
  private refs: Set<string> | undefined
  private readonly off: (() => void) | undefined

  constructor(private readonly feed: FeedApi | undefined) {
    this.off = feed?.events?.on('change', () => {
      this.refs = undefined
    })
  }

  private current(): Set<string> {
    if (this.refs === undefined) {
      const refs = new Set<string>()
      try {
        for (const post of this.feed?.timeline({ limit: SCAN_POSTS }) ?? [])
          for (const a of post.attachments) if (a.ref.startsWith('sha256:')) refs.add(a.ref.slice(7))
      } catch {
        // A stopped feed hides nothing.
      }
      this.refs = refs
    }
    return this.refs
  }

  /** Whether this message is a Moments attachment rather than something said in the chat. */
  isMomentFile(m: MessageView): boolean {
    if (this.feed === undefined || m.extension?.kind !== 'file-offer') return false
    const sha = (m.extension.data as { sha256?: unknown } | null)?.sha256
    return typeof sha === 'string' && this.current().has(sha)
  }

  stop(): void {
    this.off?.()
  }
}
