/**
 * The one interface every screen talks to. Two implementations:
 *   - remote (./remote.ts): the UI of a node, over a WebSocket to `jiayi start`, token from the URL;
 *   - in-page (../peer/): a full peer running @jiayi/core in this tab, IndexedDB storage.
 * Both speak @jiayi/api's typed methods and events (the in-page one through `localClient`, so both
 * go through the very same validation). Keep this file stable: the two sides agree only here.
 */
import type { ApiClient } from '@jiayi/api'

export type { ApiClient }

/** Where the client is: 'open' = calls go through; 'connecting' = they wait; the rest are final. */
export type ClientState = 'connecting' | 'open' | 'closed' | 'unauthorized'

/** What the app asks of the in-page peer before it can run (the remote node is always set up). */
export type AccountState =
  /** No identity in this browser yet: show onboarding (create or restore). */
  | 'new'
  /** An identity sealed with a passphrase: ask for it. */
  | 'locked'
  /** The peer runs: every ApiClient method works. */
  | 'ready'

export interface Onboarding {
  state(): Promise<AccountState>
  /** Creates an identity (and, with a passphrase, seals the store with it), then starts the peer. */
  create(name: string, passphrase?: string): Promise<void>
  /** Restores an identity and its contacts from an exported backup file, then starts the peer. */
  restore(backup: Blob, passphrase: string): Promise<void>
  /**
   * Becomes another device of the person whose device made `link`: `onCode` gets the code to type
   * on that device; resolves once everything is handed over and the peer started.
   */
  link(link: string, onCode: (code: string) => void, passphrase?: string): Promise<void>
  /** Unlocks a passphrase-sealed store and starts the peer. */
  unlock(passphrase: string): Promise<void>
}

export interface UploadProgress {
  readonly loaded: number
  readonly total: number
}

export interface JiayiClient extends ApiClient {
  readonly mode: 'remote' | 'in-page'
  readonly state: ClientState
  /** Called on every state change; returns the function that stops listening. */
  onState(handler: (state: ClientState) => void): () => void
  /** In-page only: identity creation, restore and unlock. Undefined for a remote node. */
  readonly onboarding?: Onboarding
  /**
   * Makes bytes available to `sendFile` / `post` attachments and returns their source handle
   * (remote: an upload id on the node; in-page: a blob registry id).
   */
  upload(blob: Blob, name: string, onProgress?: (p: UploadProgress) => void): Promise<string>
  /** The bytes of a transfer (received, or sent from this device), as a Blob with its MIME type. */
  fileBlob(transferId: string): Promise<Blob>
  close(): void
}

/**
 * How the app gets the in-page implementation: `apps/web/src/peer/index.ts` exports
 * `createInPageClient` of this type, and the app loads it with
 * `const { createInPageClient } = await import('../peer/index.js')` only when the URL has no
 * `#token=`, so the remote UI never loads libp2p. The client starts in state 'connecting' and
 * goes 'open' once `onboarding.state()` is 'ready' (after create, restore or unlock).
 */
export type InPageClientFactory = (options?: { readonly profile?: string }) => Promise<JiayiClient>
