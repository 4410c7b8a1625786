/**
 * Which chat messages are really a post's attachment. Offers marked 'post-attachment' never make
 * a message; offers from before that mark (or from a peer that does not set it) did. Such a file
 * message, whose SHA-256 a post we can see refers to, belongs to Moments, not to the chat. The
 * set of referenced hashes is rebuilt lazily after each feed change.
 */
import type { MessageView } from '@jiayi/core'

export class AttachmentMessages {
  private refs: Set<string> | undefined

  /** `referenced` lists the SHA-256 (hex) of every attachment of the posts we can see. */
  constructor(private readonly referenced: () => Set<string>) {}

  /** The feed changed: the set is read again when next needed. */
  changed(): void {
    this.refs = undefined
  }

  /** Whether this message is a post's attachment rather than something said in the chat. */
  isAttachmentMessage(m: MessageView): boolean {
    if (m.extension?.kind !== 'file-offer') return false
    const sha = (m.extension.data as { sha256?: unknown } | null)?.sha256
    if (typeof sha !== 'string') return false
    if (this.refs === undefined) {
      try {
        this.refs = this.referenced()
      } catch {
        return false // a stopped feed hides nothing
      }
    }
    return this.refs.has(sha)
  }
}
