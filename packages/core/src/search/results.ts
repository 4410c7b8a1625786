/**
 * What a search finds, and what else can be searched beside the messages: a SearchSource (the
 * Moments feed's posts and comments, in @jiayi/feed) registered with the Messenger adds its hits
 * to every search, ranked with the messages' (contacts first, then newest first).
 */
import type { ContactId } from '../messenger/ids.js'

export type SearchKind = 'message' | 'file' | 'post' | 'comment' | 'contact'

export interface SearchResult {
  readonly kind: SearchKind
  /** A message's, post's or comment's id, or for a contact the contact id. */
  readonly id: string
  /**
   * The conversation's contact; for a post or comment, its author (our own id, as the
   * timeline's `author.id`, for ours: then `me` is true).
   */
  readonly contactId: ContactId
  /** The text that matched: the message, the file's name, the post, the comment, or the contact's shown name. */
  readonly text: string
  /** When it was sent or posted (a contact: when they were added), ISO 8601. */
  readonly sentAt: string
  /** A post or comment: the post to show (a post's own id). */
  readonly postId?: string
  /** A post or comment of ours. */
  readonly me?: true
}

export interface SearchOptions {
  readonly contact?: ContactId | undefined
  readonly limit?: number | undefined
}

/** More to search: each hit has every token, and is checked against what it is now. */
export interface SearchSource {
  /**
   * At most `limit` hits with every token of `tokens` (search/tokens.ts), by `contact` only when
   * given. Their order does not matter: the search ranks every source's hits together.
   */
  search(
    tokens: readonly string[],
    options: { readonly contact?: ContactId | undefined; readonly limit: number },
  ): Promise<SearchResult[]>
}
