/**
 * The API's typed contract: every method's parameters and result, and every event. The method
 * tables (messenger-methods.ts, file-methods.ts, feed-methods.ts, account-methods.ts) are checked
 * against these types by the compiler, and clients (the web app's remote and in-page clients,
 * `localClient`) are typed from them, so a call is typed end to end.
 *
 * Everything here is JSON: results cross a WebSocket or go through JSON in process unchanged.
 * Times are ISO 8601 strings; ids are hex strings; `null` stands for "nothing".
 */
import type {
  BroadcastResult,
  CardView,
  ConnectionInfo,
  ConnectionRoute,
  ContactId,
  ContactView,
  DeviceView,
  FileEntry,
  FileKind,
  FileProgress,
  FileSettings,
  GroupMessageView,
  GroupView,
  HomeNodeView,
  InviteView,
  JoinResult,
  LabelMember,
  LabelView,
  LinkOffer,
  LinkStatus,
  MessageId,
  MessageView,
  MessengerStats,
  MeView,
  SearchResult,
  TransferView,
} from '@jiayi/core'
import type { AuthorView, CommentView, PostView } from '@jiayi/feed'

export type {
  AuthorView,
  BroadcastResult,
  CardView,
  CommentView,
  ConnectionInfo,
  ConnectionRoute,
  ContactId,
  ContactView,
  DeviceView,
  FileEntry,
  FileKind,
  FileProgress,
  FileSettings,
  HomeNodeView,
  LabelMember,
  LabelView,
  MessageId,
  MessageView,
  MessengerStats,
  MeView,
  PostView,
  SearchResult,
  TransferView,
}

/**
 * A message as the API shows it: the Messenger's view plus, when this peer saw it happen, how it
 * travelled (the route of the connection it was sent or received on). Messages still in the
 * outbox have status 'queued'; those left in an offline contact's mailbox, 'stored'.
 */
/** A message as the API shows it (its `route` is recorded by the Messenger). */
export type ApiMessage = MessageView

/** One line of the chats list: newest conversation first. */
/** A profile picture: its type, the image as base64, and the hash that names it. */
export interface PictureView {
  readonly mime: string
  readonly data: string
  readonly hash: string
}

export interface ChatView {
  readonly contact: ContactView
  /** The newest message, or null for a conversation with none yet (or a pending request). */
  readonly last: ApiMessage | null
  readonly unread: number
}

/** An opaque handle to bytes to send, resolved by the host's `openSource(handle)`:
 * Node's control socket: an absolute path; the web app as a node's UI: an upload id from
 * `POST /api/upload`; the in-page peer: a blob registry id. */
export type SourceHandle = string

export interface ThumbnailParam {
  readonly mime: string
  readonly width: number
  readonly height: number
  /** base64 of the image bytes (at most MAX_THUMBNAIL_BYTES). */
  readonly data: string
}

export interface VoiceParam {
  readonly durationMs: number
  /** Loudness samples 0..255, at most 256. */
  readonly waveform: readonly number[]
}

export interface AttachmentParam {
  readonly source: SourceHandle
  readonly name?: string
  readonly mime?: string
}

/** A backup, ready to save as a file: the bytes as base64 and a suggested file name. */
/** The public network setting (core's PublicNetworkSetting) and whether this run joined. */
export interface PublicNetworkView {
  readonly publicDht: boolean
  /** Bootstrap addresses; empty means libp2p's usual public ones. */
  readonly bootstrap: readonly string[]
  /** Whether the running peer joined (the setting takes effect at the next start). */
  readonly active: boolean
}

export interface BackupFile {
  readonly fileName: string
  readonly mime: string
  readonly data: string
}

type NoParams = Record<string, never>

/** method name -> { params, result }. */
export interface ApiMethods {
  // ------------------------------------------------------------------ me and contacts
  whoami: { params: NoParams; result: MeView }
  card: { params: NoParams; result: CardView }
  stats: {
    params: NoParams
    result: MessengerStats & {
      readonly files?: { readonly refusedTotal: number; readonly refused: Record<string, number> }
      readonly feed?: { readonly rejectedTotal: number; readonly rejected: Record<string, number> }
      /** How others reach this peer now (the ready line's `reach`, kept current). */
      readonly reach?: ReachView
    }
  }
  contactList: { params: NoParams; result: ContactView[] }
  /** Our home node (`jiayi home-node`), once linked; else null. */
  homeNode: { params: NoParams; result: HomeNodeView | null }
  /** Links and certifies the home node a `jiayi:home/…` link names (`jiayi home-node add`). */
  addHomeNode: { params: { link: string }; result: HomeNodeView }
  contact: { params: { contact: string }; result: ContactView }
  addContact: { params: { link: string }; result: ContactView }
  accept: { params: { contact: string }; result: ContactView }
  reject: { params: { contact: string }; result: null }
  /**
   * Local search: contacts by name or remark, then messages, file names, and Moments posts and
   * comments (with `postId`, the post to open, and `me` on ours) with every word of `query`
   * (Chinese by characters), newest first.
   */
  search: { params: { query: string; contact?: string; limit?: number }; result: SearchResult[] }
  /** Our profile picture (sent to accepted contacts through the sessions, never in the card). */
  profilePicture: { params: NoParams; result: PictureView | null }
  /** Sets our picture (JPEG, PNG or WebP, at most 64 KiB), or removes it given neither field. */
  setProfilePicture: {
    params: { mime?: 'image/jpeg' | 'image/png' | 'image/webp'; data?: string }
    result: { mime: string; hash: string } | null
  }
  /** The picture a contact sent (their ContactView's `picture` names it), or null. */
  contactPicture: { params: { contact: string }; result: PictureView | null }
  /** The user's private name for a contact (备注); '' clears it. Never sent to anyone. */
  setRemark: { params: { contact: string; remark: string }; result: ContactView }
  verify: { params: { contact: string; mark?: boolean }; result: { safetyNumber: string; verified: boolean } }
  /** The scannable safety number, hex (for a QR code the other person scans). */
  safetyNumberCode: { params: { contact: string }; result: string }

  // ------------------------------------------------------------------ labels (标签), broadcasts (群发)
  /** Every label in use, by name, each with its contacts. Labels are private, never sent. */
  labels: { params: NoParams; result: LabelView[] }
  /** Gives a label to contacts (all are found first, or nothing changes); its spelling is kept. */
  addLabel: { params: { label: string; contacts: string[] }; result: LabelView }
  removeLabel: { params: { label: string; contacts: string[] }; result: LabelView }
  /** Takes a label from everyone who has it. */
  deleteLabel: { params: { label: string }; result: null }
  /**
   * One text to every accepted contact with the label, each a separate 1:1 message (`ids`, one
   * per contact); contacts that have not accepted are `skipped`, not sent to.
   */
  broadcast: { params: { label: string; text: string }; result: BroadcastResult }
  /** One file (an upload or path, as `sendFile` takes) offered to each, as `broadcast`. */
  broadcastFile: {
    params: { label: string; source: SourceHandle; name?: string; mime?: string }
    result: BroadcastResult
  }
  /** How this peer is connected to the contact right now (null: not connected). */
  connection: { params: { contact: string }; result: ConnectionInfo | null }

  // ------------------------------------------------------------------ groups (群聊)
  /** The groups we are in. */
  groups: { params: NoParams; result: GroupView[] }
  group: { params: { group: string }; result: GroupView }
  /** A new group with us as owner and these accepted contacts as members. */
  createGroup: { params: { name: string; contacts?: string[] }; result: GroupView }
  groupAdd: { params: { group: string; contact: string }; result: GroupView }
  groupRemove: { params: { group: string; member: string }; result: GroupView }
  groupLeave: { params: { group: string }; result: GroupView }
  groupPromote: { params: { group: string; member: string }; result: GroupView }
  groupDemote: { params: { group: string; member: string }; result: GroupView }
  /** Hands ownership on (the owner becomes an admin). */
  groupTransfer: { params: { group: string; member: string }; result: GroupView }
  groupRename: { params: { group: string; name: string }; result: GroupView }
  /** The newest `limit` group messages, oldest first; clears the unread count unless `peek`. */
  groupMessages: { params: { group: string; limit?: number; peek?: boolean }; result: GroupMessageView[] }
  /** Join approval and admins-only posting (an admin). */
  groupSettings: { params: { group: string; joinApproval: boolean; adminsOnly: boolean }; result: GroupView }
  /** A signed invite link / QR text (an admin); 7 days unless `expiresInMs` says otherwise. */
  groupInvite: { params: { group: string; expiresInMs?: number }; result: InviteView }
  /** Joins asked with this invite (its link or id) are refused from now on. */
  groupRevokeInvite: { params: { group: string; invite: string }; result: GroupView }
  /** Asks the invite's admin to let us in: `joined`, or `pending` while an admin decides. */
  groupJoin: { params: { link: string }; result: JoinResult }
  /** Lets a waiting join request in (`member`: the request's id or name). */
  groupApprove: { params: { group: string; member: string }; result: GroupView }
  /** Turns a waiting join request down; the joiner is told (`member`: the request's id or name). */
  groupRefuse: { params: { group: string; member: string }; result: GroupView }
  /** What a name or id names: a contact or a group (a name naming both is AmbiguousContact). */
  conversation: {
    params: { ref: string }
    result: { kind: 'contact' | 'group'; id: string; name: string }
  }

  // ------------------------------------------------------------------ conversations
  chats: { params: NoParams; result: ChatView[] }
  /** To a contact, or to a group (`contact` names either; the answer then has `groupId`, `sender`). */
  send: { params: { contact: string; text: string; replyTo?: string }; result: ApiMessage | GroupMessageView }
  /** The newest `limit` messages, oldest first; marks incoming ones read unless `peek`. */
  /**
   * The newest `limit` messages, oldest first; `before` (a message id, the oldest of the page
   * before) pages back, `after` (the newest of a page) pages forward again, both exclusive. A
   * page shorter than `limit` reached the start (or, with `after`, the end).
   */
  messages: {
    params: { contact: string; limit?: number; peek?: boolean; before?: string; after?: string }
    result: ApiMessage[]
  }
  message: { params: { contact: string; messageId: string }; result: ApiMessage | null }
  markRead: { params: { contact: string }; result: null }
  unreadCount: { params: { contact: string }; result: number }
  react: {
    params: { contact: string; messageId: string; emoji: string }
    result: ApiMessage | GroupMessageView
  }
  edit: { params: { contact: string; messageId: string; text: string }; result: ApiMessage }
  deleteMessage: { params: { contact: string; messageId: string }; result: ApiMessage }
  setTyping: { params: { contact: string; active: boolean }; result: null }
  outboxSize: { params: { contact: string }; result: number }
  settled: { params: NoParams; result: null }
  // ------------------------------------------------------------------ our devices
  /** Our devices (`jiayi devices`). */
  devices: { params: NoParams; result: DeviceView[] }
  /** A one-time link for a new device (`jiayi devices link`). */
  linkDevice: { params: { ttlMs?: number }; result: LinkOffer }
  /** Where linking stands once it moved past `after` (a long poll). */
  linkStatus: {
    params: { after: number; timeoutMs?: number }
    result: LinkStatus & { readonly seq: number }
  }
  /** The code the new device shows, typed on this one: the handover starts (WrongCode ends it). */
  confirmLink: { params: { code: string }; result: LinkStatus & { readonly seq: number } }
  /** Removes one of our other devices; our list is re-signed and announced. */
  removeDevice: { params: { id: string }; result: DeviceView[] }

  // ------------------------------------------------------------------ files
  /**
   * Offers the bytes behind `source` to a contact, or to a group (`contact` names either, as in
   * `send`); resolves once the offer is queued. To a group the answer has `groupId` and `sender`.
   */
  sendFile: {
    params: {
      contact: string
      source: SourceHandle
      name?: string
      mime?: string
      kind?: FileKind
      thumbnail?: ThumbnailParam
      voice?: VoiceParam
    }
    result: TransferView
  }
  files: { params: NoParams; result: FileEntry[] }
  transfer: { params: { id: string }; result: TransferView }
  transfers: { params: NoParams; result: TransferView[] }
  cancelFile: { params: { id: string }; result: TransferView }
  /** Sends a file this peer holds (sent, or received complete) to a contact, as a new offer. */
  forwardFile: { params: { id: string; contact: string }; result: TransferView }
  /** Downloads a file that waits for the user's accept (note 'needs-accept'). */
  acceptFile: { params: { id: string }; result: TransferView }
  /** The user's settings about receiving files. */
  fileSettings: { params: NoParams; result: FileSettings }
  /** Offers larger than `askAboveBytes` wait for the user's accept. */
  setFileSettings: { params: { askAboveBytes: number }; result: FileSettings }

  // ------------------------------------------------------------------ moments
  /**
   * Newest first; `beforePost` (the last post of the page before) pages back exactly, `before`
   * (ms since the epoch) by time.
   */
  timeline: { params: { limit?: number; before?: number; beforePost?: string }; result: PostView[] }
  /**
   * A new post. Links become link previews (URL only: readers never fetch them). Attachments are
   * sent to every accepted contact through the files layer; the post refers to each by
   * `sha256:<hex>` of its bytes, which is how a reader finds the received file.
   */
  post: {
    params: { text: string; links?: string[]; attachments?: AttachmentParam[] }
    result: PostView
  }
  editPost: { params: { postId: string; text: string; links?: string[] }; result: PostView }
  deletePost: { params: { postId: string }; result: null }
  like: { params: { postId: string }; result: PostView }
  unlike: { params: { postId: string }; result: null }
  comment: { params: { postId: string; text: string }; result: CommentView }
  deleteComment: { params: { commentId: string }; result: null }

  // ------------------------------------------------------------------ account (host-dependent)
  setName: { params: { name: string }; result: MeView }
  /** `current` is needed when the store has a passphrase; `next` empty = no passphrase (key file). */
  changePassphrase: { params: { current?: string; next: string }; result: null }
  /** The identity and contacts, sealed with `passphrase` (Argon2id + XChaCha20-Poly1305). */
  exportBackup: { params: { passphrase: string }; result: BackupFile }
  /** Whether this peer joins the public libp2p network (Kad-DHT, public relays); a node only. */
  publicNetwork: { params: NoParams; result: PublicNetworkView }
  /** Saves the choice; the peer honours it at its next start (`active` says what runs now). */
  setPublicNetwork: { params: { publicDht: boolean; bootstrap?: string[] }; result: PublicNetworkView }

  // ------------------------------------------------------------------ this peer's API
  /** The methods and events this peer offers (hosts differ: a node has no setName, say). */
  capabilities: { params: NoParams; result: { methods: string[]; events: EventName[] } }

  // ------------------------------------------------------------------ live events
  subscribe: { params: { events?: EventName[] }; result: { events: EventName[] } }
  unsubscribe: { params: NoParams; result: { events: EventName[] } }
}

export type MethodName = keyof ApiMethods
export type ParamsOf<M extends MethodName> = ApiMethods[M]['params']
export type ResultOf<M extends MethodName> = ApiMethods[M]['result']

/** event name -> payload (a notification is `{"event": name, ...payload}`). */
export interface ApiEvents {
  message: { readonly contactId: ContactId; readonly change: 'new' | 'update'; readonly message: ApiMessage }
  contact: {
    readonly id: ContactId
    readonly change: 'new' | 'update' | 'removed'
    readonly contact?: ContactView
  }
  typing: { readonly contactId: ContactId; readonly active: boolean }
  /** The conversation was read: its incoming messages so far read as read, its unread count is 0. */
  read: { readonly contactId: ContactId }
  /** A group changed, or we are no longer in it, or the admin refused our join (`refused`: why). */
  group: {
    readonly groupId: string
    readonly change: 'update' | 'removed' | 'refused'
    readonly refused?: string
  }
  /** A group message was stored (sent by us, or read from a member). */
  'group-message': { readonly groupId: string; readonly message: GroupMessageView }
  /** A transfer was created or changed state (not every chunk: see `progress`). */
  transfer: { readonly transfer: TransferView; readonly change: 'new' | 'update' }
  /** Bytes moved; at most a few per second per transfer. */
  progress: FileProgress
  /** Someone's feed changed (ours included): re-read the timeline. */
  feed: { readonly feed: string; readonly local: boolean; readonly author?: AuthorView }
  /** A change of passphrase under way (`changePassphrase` answers once it is done). */
  passphrase: PassphraseProgress
  /** How others reach this peer changed (nat, relays or mapped); at most one a second. */
  reach: { readonly reach: ReachView }
}

/** How others reach this peer: `stats`' `reach`, and the `reach` event's. */
export interface ReachView {
  readonly nat: 'public' | 'private' | 'unknown'
  readonly relays: readonly string[]
  /** Public addresses the router maps to this peer (UPnP). */
  readonly mapped?: readonly string[]
  readonly homeNode: HomeNodeView | null
}

/**
 * How far a change of passphrase is: every record re-sealed under a new key ('sealing'), then
 * the old records deleted from the disk ('cleaning'), then 'done'. Counts are records.
 */
export interface PassphraseProgress {
  readonly phase: 'sealing' | 'cleaning' | 'done'
  readonly done: number
  readonly total: number
}

export type EventName = keyof ApiEvents
export const EVENT_NAMES: readonly EventName[] = [
  'message',
  'contact',
  'typing',
  'read',
  'transfer',
  'progress',
  'feed',
  'passphrase',
  'group',
  'group-message',
  'reach',
] as const

export type ApiNotification = { [E in EventName]: { readonly event: E } & ApiEvents[E] }[EventName]
