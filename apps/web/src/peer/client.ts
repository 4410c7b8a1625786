/**
 * The in-page JiayiClient (apps/web/src/client/types.ts): the app's one interface, implemented by
 * @jiayi/api's `localClient` over a ControlDispatcher whose host is the InPagePeer of this tab, so
 * the in-page peer answers exactly like a node's UI socket (same validation, same values). Calls
 * made before the peer runs wait for it (state 'connecting'); onboarding creates, restores or
 * unlocks the profile and then opens the client.
 *
 * Relays: the LAN node(s) this tab reserves a slot on, so other browsers can reach it. Given as
 * `relays`, or else read from `jiayi-relays.json` next to the page (a node that serves the app
 * can publish its addresses there: `{"relays": ["/ip4/…/tcp/…/ws/p2p/…"]}`); connected node
 * contacts serve as relays too.
 */

import type { ApiEvents, PassphraseProgress, ResultOf } from '@jiayi/api'
import {
  type AccountHost,
  ApiClosedError,
  type CallableMethod,
  ControlDispatcher,
  ControlError,
  type DispatcherOptions,
  type EventName,
  type LocalClient,
  localClient,
  type ParamsArg,
} from '@jiayi/api'
import { Emitter } from '@jiayi/core'
import type {
  AccountState,
  ClientState,
  InPageClientFactory,
  JiayiClient,
  Onboarding,
  UploadProgress,
} from '../client/types.js'
import { BACKUP_MIME } from './backup.js'
import { PeerError } from './errors.js'
import { parseLocation } from './file-storage.js'
import {
  consoleLogger,
  createPeer,
  DEFAULT_PROFILE,
  type InPagePeer,
  linkPeer,
  openPeer,
  type PeerOptions,
  profileStatus,
  restorePeer,
} from './runtime.js'

export interface InPageClientOptions {
  readonly profile?: string
  /** Relay node multiaddrs (with /p2p/<id>); default: `jiayi-relays.json` next to the page, if any. */
  readonly relays?: readonly string[]
  /** Extra options for the peer (tests: cheaper Argon2id). */
  readonly peer?: Omit<PeerOptions, 'profile' | 'relays' | 'passphrase'>
}

function base64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

/** `jiayi-relays.json` next to the page, if the serving node published one. */
async function discoverRelays(): Promise<string[]> {
  if (typeof location === 'undefined' || typeof fetch === 'undefined') return []
  try {
    const response = await fetch(new URL('jiayi-relays.json', location.href), { cache: 'no-store' })
    if (!response.ok) return []
    const body = (await response.json()) as { relays?: unknown }
    return Array.isArray(body.relays) ? body.relays.filter((r): r is string => typeof r === 'string') : []
  } catch {
    return []
  }
}

/** The API host of a running in-page peer. */
export function apiHostOf(peer: InPagePeer): DispatcherOptions {
  const passphraseEvents = new Emitter<{ passphrase: PassphraseProgress }>()
  const account: AccountHost = {
    setName: (name) => peer.messenger.setName(name),
    changePassphrase: (current, next) =>
      peer.setPassphrase(current, next, (p) => passphraseEvents.emit('passphrase', p)),
    events: passphraseEvents,
    exportBackup: async (passphrase) => {
      const { blob, fileName } = await peer.exportBackup(passphrase)
      return { fileName, mime: BACKUP_MIME, data: base64(new Uint8Array(await blob.arrayBuffer())) }
    },
  }
  return {
    log: consoleLogger,
    files: {
      files: peer.files,
      // Only what `upload` stored in this tab's profile can be sent: never anything else.
      openSource: async (handle) => {
        if (parseLocation(handle) === undefined)
          throw new ControlError('BadParams', '"source" must be a handle from upload()')
        return peer.storage.openSource(handle)
      },
    },
    feed: peer.feed,
    account,
    connection: (peerId) => peer.connection(peerId),
  }
}

type Subscription = { event: EventName; handler: (payload: never) => void; off?: () => void }

class InPageClient implements JiayiClient {
  readonly mode = 'in-page' as const
  #state: ClientState = 'connecting'
  #peer: InPagePeer | undefined
  #api: LocalClient | undefined
  #relays: string[] | undefined
  readonly #profile: string
  readonly #stateHandlers = new Set<(state: ClientState) => void>()
  readonly #subscriptions = new Set<Subscription>()
  readonly #opened: Promise<void>
  #open!: () => void
  #fail!: (error: Error) => void
  readonly #onWake = () => void this.#peer?.reconnect().catch(() => undefined)
  readonly onboarding: Onboarding

  constructor(private readonly options: InPageClientOptions) {
    this.#profile = options.profile ?? DEFAULT_PROFILE
    this.#relays = options.relays === undefined ? undefined : [...options.relays]
    this.#opened = new Promise<void>((resolve, reject) => {
      this.#open = resolve
      this.#fail = reject
    })
    this.#opened.catch(() => undefined)
    this.onboarding = {
      state: () => this.#accountState(),
      create: (name, passphrase) => this.#start((o) => createPeer(name, { ...o, passphrase })),
      restore: (backup, passphrase) => this.#start((o) => restorePeer(backup, passphrase, o)),
      link: (link, onCode, passphrase) => this.#start((o) => linkPeer(link, onCode, { ...o, passphrase })),
      unlock: (passphrase) => this.#start((o) => openPeer({ ...o, passphrase })),
    }
  }

  get state(): ClientState {
    return this.#state
  }

  onState(handler: (state: ClientState) => void): () => void {
    this.#stateHandlers.add(handler)
    return () => this.#stateHandlers.delete(handler)
  }

  #setState(state: ClientState): void {
    if (this.#state === state) return
    this.#state = state
    for (const h of this.#stateHandlers) {
      try {
        h(state)
      } catch {
        // a faulty listener must not break the others
      }
    }
  }

  async #accountState(): Promise<AccountState> {
    if (this.#peer !== undefined) return 'ready'
    const status = await profileStatus(this.#profile)
    if (!status.exists) return 'new'
    if (status.lock === 'passphrase') return 'locked'
    // Sealed with this browser's device key: unlocks without asking.
    await this.#start((o) => openPeer(o))
    return 'ready'
  }

  async #peerOptions(): Promise<PeerOptions> {
    this.#relays ??= await discoverRelays()
    return { ...this.options.peer, profile: this.#profile, relays: this.#relays, log: consoleLogger }
  }

  async #start(make: (options: PeerOptions) => Promise<InPagePeer>): Promise<void> {
    if (this.#state === 'closed') throw new ApiClosedError()
    if (this.#peer !== undefined) throw new PeerError('AccountExists', 'the peer is already running')
    const peer = await make(await this.#peerOptions())
    // close() may have run while the peer started.
    if (this.#isClosed()) {
      await peer.stop()
      throw new ApiClosedError()
    }
    this.#peer = peer
    this.#api = localClient(new ControlDispatcher(peer.messenger, apiHostOf(peer)))
    for (const s of this.#subscriptions) s.off = this.#api.on(s.event, s.handler as never)
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.#onWake)
      document.addEventListener('visibilitychange', this.#onWake)
    }
    this.#setState('open')
    this.#open()
  }

  /** The running peer (for tools and tests); undefined until onboarding is done. */
  get peer(): InPagePeer | undefined {
    return this.#peer
  }

  async call<M extends CallableMethod>(method: M, ...params: ParamsArg<M>): Promise<ResultOf<M>> {
    await this.#opened
    if (this.#api === undefined) throw new ApiClosedError()
    return this.#api.call(method, ...params)
  }

  on<E extends EventName>(event: E, handler: (payload: ApiEvents[E]) => void): () => void {
    const s: Subscription = { event, handler: handler as (payload: never) => void }
    if (this.#api !== undefined) s.off = this.#api.on(event, handler)
    this.#subscriptions.add(s)
    return () => {
      s.off?.()
      this.#subscriptions.delete(s)
    }
  }

  async upload(blob: Blob, name: string, onProgress?: (p: UploadProgress) => void): Promise<string> {
    await this.#opened
    const source = await this.#running().storage.importBlob(blob, name, blob.type || undefined, onProgress)
    return source.ref!
  }

  async fileBlob(transferId: string): Promise<Blob> {
    await this.#opened
    return this.#running().fileBlob(transferId)
  }

  #isClosed(): boolean {
    return this.#state === 'closed'
  }

  #running(): InPagePeer {
    if (this.#peer === undefined) throw new ApiClosedError()
    return this.#peer
  }

  close(): void {
    if (this.#state === 'closed') return
    this.#setState('closed')
    this.#fail(new ApiClosedError())
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.#onWake)
      document.removeEventListener('visibilitychange', this.#onWake)
    }
    this.#api?.close()
    const peer = this.#peer
    this.#peer = undefined
    void peer?.stop().catch(() => undefined)
  }
}

/** The app's entry point for the in-page peer (see InPageClientFactory in client/types.ts). */
export const createInPageClient: InPageClientFactory = async (options) =>
  new InPageClient({ ...(options as InPageClientOptions | undefined) })

/** Like createInPageClient, with the in-page peer's own options (relays, peer tuning). */
export async function createInPageClientWith(
  options: InPageClientOptions = {},
): Promise<JiayiClient & { readonly peer: InPagePeer | undefined }> {
  return new InPageClient(options)
}
