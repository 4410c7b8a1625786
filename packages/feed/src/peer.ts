/**
 * One function assembles a peer and one stops it: the node daemon, the in-page browser peer and
 * the test helpers all call `openPeer`, so none of them starts a behaviour by hand that a library
 * user would miss. What differs between them comes in as options: the store (sealed LevelDB, an
 * IndexedDB vault, memory), the network stack and where to listen, where received files go, and
 * the relays a browser keeps a connection to.
 *
 *   store (the caller's, opened) -> account -> libp2p node -> FileService + Feed (their extension
 *   handlers in place at Messenger.open, so no offer or feed key can arrive before they listen)
 *   -> Messenger (with its search index) -> files, then feed (with its posts' pictures) started
 *   -> ConnectionKeeper (when asked to keep connections: relays, contacts)
 *
 * `stop()` goes the other way and closes the store last; libp2p's own stop timers are cleared by
 * core's node factory, so a peer stops in about 100 ms. Groups, devices and reach plug in here.
 *
 * The crypto provider is not an option: it is process-wide and must be in place before the
 * store is unlocked, so the program's entry point installs it (apps/node's `loadCore()` installs
 * node:crypto's; browsers keep @noble's).
 */
import {
  type Account,
  type ConnectionInfo,
  ConnectionKeeper,
  type ConnectionKeeperInit,
  connectionInfo,
  createJiayiNode,
  FileService,
  type FileServiceInit,
  type FileStorage,
  type JiayiNode,
  type JiayiNodeOptions,
  type Logger,
  loadAccount,
  Messenger,
  MessengerError,
  type MessengerInit,
  type NetworkStack,
  type Store,
  waitUntilReachable,
} from '@jiayi/core'
import { Feed, type FeedInit } from './feed.js'

/** A logger that may name the part that logs (the daemon's does). */
export interface PeerLog extends Logger {
  child?(component: string): Logger
}

export interface PeerInit {
  /**
   * The open store. The caller opens it (unlocking is the app's: a passphrase, a key file, a
   * browser's device key) and keeps it until `openPeer` resolves; from then on the peer closes it
   * last, through `closeStore` (default `store.close()`).
   */
  readonly store: Store
  readonly closeStore?: (() => Promise<void>) | undefined
  /** Default: the account in the store (MessengerError NoAccount without one). */
  readonly account?: Account | undefined
  /** `nodeNetwork()` from @jiayi/core/node, or `browserNetwork()`. */
  readonly network: NetworkStack
  /** Where to listen; default the network's own addresses. */
  readonly listen?: readonly string[] | undefined
  /**
   * When the node cannot listen at `listen`: other addresses to try once (fresh ports instead of
   * remembered ones, say), or undefined to fail with the error (the function may throw a better one).
   */
  readonly listenFallback?: ((error: unknown) => Promise<readonly string[] | undefined>) | undefined
  /** Node tuning: the relay server, loopback dialling, connection limits, the public network. */
  readonly node?: Pick<JiayiNodeOptions, 'relayServer' | 'alsoDial' | 'limits' | 'publicDht'> | undefined
  /** Where received files go and sent ones are read again (disk, IndexedDB, memory). */
  readonly fileStorage: FileStorage
  readonly files?: Omit<FileServiceInit, 'store' | 'storage' | 'log'> | undefined
  readonly feed?: Omit<FeedInit, 'files' | 'log'> | undefined
  readonly messenger?:
    | Pick<MessengerInit, 'resetSessions' | 'pendingLimits' | 'now' | 'deviceName' | 'linkTtlMs'>
    | undefined
  /**
   * Keep connections open to these relays and to every accepted contact (a browser, which nobody
   * can dial, needs this to be reachable): core's ConnectionKeeper. Default: none kept.
   */
  readonly keepConnected?: Pick<ConnectionKeeperInit, 'relays' | 'keepAliveMs'> | undefined
  /**
   * Called once the messenger is open, before files and feed start: an app that reports the
   * messenger's events hears them from the first one (a session reset begun at open, say).
   */
  readonly onMessenger?: ((messenger: Messenger) => void) | undefined
  readonly log?: PeerLog | undefined
}

const silent: Logger = { debug() {}, info() {}, warn() {} }

export class Peer {
  private stopping: Promise<void> | undefined

  /** @internal `openPeer` makes peers. */
  constructor(
    readonly store: Store,
    readonly account: Account,
    readonly node: JiayiNode,
    readonly messenger: Messenger,
    readonly files: FileService,
    readonly feed: Feed,
    private readonly keeper: ConnectionKeeper | undefined,
    private readonly closeStore: () => Promise<void>,
  ) {}

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** How we are connected to a peer right now (lan / direct / relayed, transport), if at all. */
  connection(peerId: string): ConnectionInfo | undefined {
    return connectionInfo(this.node, peerId)
  }

  /** Redials the relays and contacts we are not connected to now (the network came back, say). */
  async reconnect(): Promise<void> {
    await this.keeper?.sweep()
  }

  /** Resolves once a relay reservation gives us a circuit WebRTC address (what browsers dial). */
  async reachable(timeoutMs = 15_000): Promise<string[]> {
    await this.keeper?.sweep()
    return waitUntilReachable(this.node, timeoutMs)
  }

  /** Stops everything in reverse order and closes the store last; a second call waits for the first. */
  stop(): Promise<void> {
    this.stopping ??= stopParts(this, this.keeper, this.closeStore)
    return this.stopping
  }
}

/** Assembles and starts a peer; if that fails, stops what it started (the store stays open). */
export async function openPeer(init: PeerInit): Promise<Peer> {
  const log = init.log ?? silent
  const logFor = (component: string): Logger => init.log?.child?.(component) ?? log
  const store = init.store
  const account = init.account ?? (await loadAccount(store))
  if (account === undefined) throw new MessengerError('NoAccount', 'this store has no identity yet')
  let node: JiayiNode | undefined
  let messenger: Messenger | undefined
  let files: FileService | undefined
  let feed: Feed | undefined
  try {
    node = await startNode(init, account)
    const storage = init.fileStorage
    files = new FileService({ ...init.files, store, storage, log: logFor('files') })
    feed = await Feed.create({
      ...init.feed,
      store,
      identity: account.identity,
      files: { service: files, createHasher: () => storage.createHasher() },
      log: logFor('feed'),
    })
    messenger = await Messenger.open({
      ...init.messenger,
      store,
      node,
      account,
      log: logFor('messenger'),
      extensions: { ...files.extensions, ...feed.extensions },
    })
    init.onMessenger?.(messenger)
    // Files first: the feed's pictures are offered through it, and its transfers say what was.
    await files.start(messenger)
    await feed.start(messenger)
    const running = messenger
    const keeper =
      init.keepConnected === undefined
        ? undefined
        : new ConnectionKeeper(node, {
            ...init.keepConnected,
            peers: () =>
              running
                .contactList()
                .filter((c) => c.state === 'accepted')
                .map((c) => c.peerId),
            log: logFor('net'),
          })
    keeper?.start()
    return new Peer(
      store,
      account,
      node,
      messenger,
      files,
      feed,
      keeper,
      init.closeStore ?? (() => store.close()),
    )
  } catch (error) {
    await stopParts({ node, messenger, files, feed }, undefined, async () => undefined)
    throw error
  }
}

/** The node, listening; `listenFallback` decides whether a failed listen gets a second try. */
async function startNode(init: PeerInit, account: Account): Promise<JiayiNode> {
  const attempt = async (listen: readonly string[] | undefined) => {
    const node = await createJiayiNode({
      ...init.node,
      privateKey: account.deviceKey,
      network: init.network,
      ...(listen === undefined ? {} : { listen }),
      start: false,
    })
    try {
      await node.start()
      return node
    } catch (error) {
      await Promise.resolve()
        .then(() => node.stop())
        .catch(() => undefined)
      throw error
    }
  }
  try {
    return await attempt(init.listen)
  } catch (error) {
    const instead = await init.listenFallback?.(error)
    if (instead === undefined) throw error
    return attempt(instead)
  }
}

interface Parts {
  readonly node?: JiayiNode | undefined
  readonly messenger?: Messenger | undefined
  readonly files?: FileService | undefined
  readonly feed?: Feed | undefined
}

/** Feed, files, messenger, node, then the store: each step runs even if one before it failed. */
async function stopParts(
  parts: Parts,
  keeper: ConnectionKeeper | undefined,
  closeStore: () => Promise<void>,
): Promise<void> {
  keeper?.stop()
  await parts.feed?.stop().catch(() => undefined)
  await parts.files?.stop().catch(() => undefined)
  await parts.messenger?.stop().catch(() => undefined)
  // libp2p's stop may throw synchronously.
  await Promise.resolve()
    .then(() => parts.node?.stop())
    .catch(() => undefined)
  await closeStore()
}
