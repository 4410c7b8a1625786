/**
 * The in-page peer: @jiayi/core running inside the page with its own identity, keys and history
 * in IndexedDB (sealed: see vault.ts). One `InPagePeer` per open profile; the app gets one from
 * `openPeer`, `createPeer` or `restorePeer` and drives it through the API (client.ts) or directly.
 *
 *   vault (sealed store) -> account -> libp2p node (browser transports) -> FileService + Feed
 *   (their extension handlers installed at Messenger.open, as the node daemon does) -> Messenger
 *   -> ConnectionKeeper (relays, contacts)
 */
import {
  type Account,
  type ConnectionInfo,
  type FileService as CoreFileService,
  createAccount,
  FileError,
  FileService,
  type JiayiNode,
  type Logger,
  loadAccount,
  Messenger,
  type RekeyProgress,
} from '@jiayi/core'
import { Feed } from '@jiayi/feed'
import { backupFileName, exportStore, importIntoStore } from './backup.js'
import { PeerError } from './errors.js'
import { StoreFileStorage } from './file-storage.js'
import {
  ConnectionKeeper,
  connectionInfo,
  createBrowserNode,
  isReachableAddr,
  type PeerNetworkOptions,
  waitUntilReachable,
} from './network.js'
import { Vault, type VaultOptions, vaultStatus } from './vault.js'

export interface PeerOptions extends PeerNetworkOptions, VaultOptions {
  /** Which profile (IndexedDB database) to use; default 'default'. One tab runs a profile at a time. */
  readonly profile?: string | undefined
  readonly log?: Logger | undefined
}

export const DEFAULT_PROFILE = 'default'

const quiet: Logger = { debug() {}, info() {}, warn() {} }

/** Logs warnings to the console (names and codes only; never content or keys). */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => console.warn(`[jiayi] ${message}`, fields ?? ''),
}

export { vaultStatus as profileStatus }

export class InPagePeer {
  private stopped = false
  private readonly stopHooks: (() => void)[] = []

  private constructor(
    readonly vault: Vault,
    readonly account: Account,
    readonly node: JiayiNode,
    readonly messenger: Messenger,
    readonly files: CoreFileService,
    readonly feed: Feed,
    readonly storage: StoreFileStorage,
    private readonly keeper: ConnectionKeeper,
  ) {}

  /** Starts the peer on an unlocked vault that holds an account. Closes the vault if it fails. */
  static async start(vault: Vault, options: PeerOptions = {}): Promise<InPagePeer> {
    const log = options.log ?? quiet
    let node: JiayiNode | undefined
    let messenger: Messenger | undefined
    let files: FileService | undefined
    try {
      const account = await loadAccount(vault.store)
      if (account === undefined) throw new PeerError('NoAccount', 'this profile has no identity yet')
      node = await createBrowserNode(account.deviceKey, options)
      const storage = new StoreFileStorage(vault.store)
      // The browser's quota is the origin's share, not the disk: a file need only fit in it.
      files = new FileService({ store: vault.store, storage, log, autoDownload: { minFreeBytes: 0 } })
      // Posts' pictures travel through the files service.
      const feed = await Feed.create({
        store: vault.store,
        identity: account.identity,
        files: { service: files, createHasher: () => storage.createHasher() },
        log,
      })
      messenger = await Messenger.open({
        store: vault.store,
        node,
        account,
        log,
        extensions: { ...files.extensions, ...feed.extensions },
      })
      await files.start(messenger)
      await feed.start(messenger)
      const keeper = new ConnectionKeeper(node, messenger, log, options)
      keeper.start()
      return new InPagePeer(vault, account, node, messenger, files, feed, storage, keeper)
    } catch (error) {
      await files?.stop().catch(() => undefined)
      await messenger?.stop().catch(() => undefined)
      await Promise.resolve()
        .then(() => node?.stop())
        .catch(() => undefined)
      await vault.close().catch(() => undefined)
      throw error
    }
  }

  get peerId(): string {
    return this.node.peerId.toString()
  }

  /** Our addresses through relays (what other browsers dial), if any reservation is held. */
  reachableAddrs(): string[] {
    return this.node
      .getMultiaddrs()
      .map(String)
      .filter((a) => isReachableAddr(a))
  }

  /** Resolves once a relay reservation gives us a circuit WebRTC address (and so a card address). */
  async reachable(timeoutMs = 15_000): Promise<string[]> {
    await this.keeper.sweep()
    return waitUntilReachable(this.node, timeoutMs)
  }

  /** Redial relays and contacts now (e.g. when the page becomes visible or the network returns). */
  reconnect(): Promise<void> {
    return this.keeper.sweep()
  }

  /** How we are connected to a peer right now (lan / direct / relayed, transport), if at all. */
  connection(peerId: string): ConnectionInfo | undefined {
    return connectionInfo(this.node, peerId)
  }

  /** Offers a File or Blob to a contact: stored (sealed) first, then sent chunk by chunk. */
  async sendBlob(
    contact: string,
    blob: Blob,
    options: Parameters<FileService['sendFile']>[2] & { readonly name?: string } = {},
  ) {
    const name = options.name ?? (blob instanceof File ? blob.name : 'file')
    const source = await this.storage.importBlob(blob, name, options.mime)
    return this.files.sendFile(contact, source, { ...options, name })
  }

  /** A blob: URL for a transfer's file (received and complete, or sent by us). Revoke it when done. */
  async fileUrl(transferId: string): Promise<string> {
    return URL.createObjectURL(await this.fileBlob(transferId))
  }

  async fileBlob(transferId: string): Promise<Blob> {
    const t = this.files.transfer(transferId)
    if (t === undefined || t.path === null || (t.direction === 'in' && t.status !== 'complete'))
      throw new FileError('SourceGone', 'that file is not on this device')
    return this.storage.blob(t.path, t.mime)
  }

  /** An encrypted backup of this profile (see backup.ts) and a file name to save it under. */
  async exportBackup(passphrase: string): Promise<{ blob: Blob; fileName: string }> {
    // Whatever the messenger committed reaches the store before it is read.
    await (this.messenger.store as { flushed?: () => Promise<void> }).flushed?.()
    const blob = await exportStore(this.vault.store, passphrase)
    return { blob, fileName: backupFileName(this.account.name) }
  }

  /** Sets, changes (current + next) or removes (next undefined) the passphrase that locks this profile. */
  setPassphrase(
    current: string | undefined,
    next: string | undefined,
    onProgress?: (progress: RekeyProgress) => void,
  ): Promise<void> {
    return this.vault.setPassphrase(current, next, onProgress)
  }

  /** Runs `fn` as the peer stops (before its feed, files and messenger do). */
  onStop(fn: () => void): void {
    this.stopHooks.push(fn)
  }

  async stop(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    for (const fn of this.stopHooks) fn()
    this.keeper.stop()
    await this.feed.stop().catch(() => undefined)
    await this.files.stop().catch(() => undefined)
    await this.messenger.stop().catch(() => undefined)
    await Promise.resolve()
      .then(() => this.node.stop())
      .catch(() => undefined)
    await this.vault.close()
  }
}

/** Opens an existing profile (PassphraseNeeded if it has a passphrase and none was given). */
export async function openPeer(options: PeerOptions = {}): Promise<InPagePeer> {
  const vault = await Vault.open(options.profile ?? DEFAULT_PROFILE, options)
  return InPagePeer.start(vault, options)
}

/** Creates a new identity named `name` in a new profile (AccountExists if it has one). */
export async function createPeer(name: string, options: PeerOptions = {}): Promise<InPagePeer> {
  const vault = await Vault.open(options.profile ?? DEFAULT_PROFILE, options)
  try {
    if ((await loadAccount(vault.store)) !== undefined)
      throw new PeerError('AccountExists', 'this profile already has an identity')
    await createAccount(vault.store, name)
  } catch (error) {
    await vault.abandon()
    throw error
  }
  return InPagePeer.start(vault, options)
}

/**
 * Restores a backup into a new, empty profile and starts it. `backupPassphrase` opens the file;
 * `options.passphrase` (optional) locks the new profile.
 */
export async function restorePeer(
  backup: Blob,
  backupPassphrase: string,
  options: PeerOptions = {},
): Promise<InPagePeer> {
  const vault = await Vault.open(options.profile ?? DEFAULT_PROFILE, options)
  try {
    await importIntoStore(vault.store, backup, backupPassphrase)
  } catch (error) {
    // A failed restore leaves no profile behind (the next attempt may choose another lock).
    await vault.abandon()
    throw error
  }
  return InPagePeer.start(vault, options)
}
