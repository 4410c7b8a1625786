/**
 * What the dispatcher drives: the host's parts, as structural types so that tests can pass fakes
 * and each host (the Node daemon, the in-page peer) wires its own. Only `messenger` is required;
 * the methods of a missing part answer ControlError 'Unsupported'.
 */
import type { ConnectionInfo, FileService, FileSource, Logger, Messenger, MessengerEvents } from '@jiayi/core'
import type { Feed, LinkPreview } from '@jiayi/feed'
import type { BackupFile, MeView, PassphraseProgress, PublicNetworkView, SourceHandle } from './methods.js'

/** What the dispatcher needs of a Messenger. */
export type MessengerApi = Pick<
  Messenger,
  | 'whoami'
  | 'card'
  | 'stats'
  | 'contactList'
  | 'contact'
  | 'addContact'
  | 'accept'
  | 'reject'
  | 'send'
  | 'messages'
  | 'message'
  | 'markRead'
  | 'unreadCount'
  | 'react'
  | 'edit'
  | 'deleteMessage'
  | 'setTyping'
  | 'verify'
  | 'setRemark'
  | 'labels'
  | 'groups'
  | 'conversationOf'
  | 'addLabel'
  | 'removeLabel'
  | 'deleteLabel'
  | 'labelAudience'
  | 'broadcast'
  | 'search'
  | 'profilePicture'
  | 'setProfilePicture'
  | 'contactPicture'
  | 'safetyNumberCode'
  | 'outboxSize'
  | 'settled'
  | 'homeNode'
  | 'reach'
  | 'addHomeNode'
  | 'devices'
  | 'linkDevice'
  | 'linkStatus'
  | 'confirmLink'
  | 'removeDevice'
> & {
  readonly events: {
    on<K extends keyof MessengerEvents>(type: K, handler: (event: MessengerEvents[K]) => void): () => void
  }
}

/** The files layer and how this host turns a source handle into bytes. */
export interface FileHost {
  readonly files: Pick<
    FileService,
    'sendFile' | 'files' | 'transfer' | 'transfers' | 'cancel' | 'forward'
  > & {
    /** A file waiting for the user's accept (too large, over a quota) downloads now. */
    accept?: FileService['accept']
    settings?: FileService['settings']
    setSettings?: FileService['setSettings']
    readonly events?: FileService['events']
    /** Transfer counters, refusals among them (shown by the `stats` method). */
    stats?(): ReturnType<FileService['stats']>
  }
  /**
   * Opens the bytes behind a handle (Node's control socket: an absolute path; the web server: an
   * upload id; the in-page peer: a blob registry id). Throws ControlError 'BadParams' or a
   * FileError for a handle it does not know.
   */
  openSource(handle: SourceHandle): Promise<FileSource>
}

export type FeedApi = Pick<
  Feed,
  'timeline' | 'get' | 'post' | 'edit' | 'deletePost' | 'like' | 'unlike' | 'comment' | 'deleteComment'
> & {
  readonly events?: Feed['events']
  /** Whether a chat message is a post's picture (left out of conversations); default none is. */
  isAttachmentMessage?: Feed['isAttachmentMessage']
  /** Sync counters, rejections among them (shown by the `stats` method). */
  stats?(): ReturnType<Feed['stats']>
}

/** Account operations some hosts support. */
export interface AccountHost {
  setName?(name: string): Promise<MeView>
  /** Resolves once the change is done (every record re-sealed, the old ones deleted). */
  changePassphrase?(current: string | undefined, next: string): Promise<void>
  /** Progress of a change of passphrase while it runs. */
  readonly events?: {
    on(type: 'passphrase', handler: (progress: PassphraseProgress) => void): () => void
  }
  exportBackup?(passphrase: string): Promise<BackupFile>
  publicNetwork?(): Promise<PublicNetworkView>
  setPublicNetwork?(setting: {
    publicDht: boolean
    bootstrap?: readonly string[]
  }): Promise<PublicNetworkView>
}

export interface ApiHost {
  readonly messenger: MessengerApi
  readonly files?: FileHost | undefined
  readonly feed?: FeedApi | undefined
  readonly account?: AccountHost | undefined
  /**
   * Makes link previews for a post (the poster's peer fetches the page so readers never do);
   * hosts that cannot (a browser tab: cross-origin pages) leave it out and links go bare.
   */
  readonly previewLinks?: ((urls: readonly string[]) => Promise<readonly LinkPreview[]>) | undefined
  /** How this peer is connected to a peer id right now (the first open connection), if at all. */
  readonly connection?: ((peerId: string) => ConnectionInfo | undefined) | undefined
  readonly log?: ApiLog | undefined
}

export interface ApiLog extends Logger {
  error?(message: string, fields?: Record<string, string | number | boolean>): void
}
