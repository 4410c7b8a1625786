/**
 * The in-page peer: a whole Jiayi peer inside the page with its own identity, keys and history
 * in IndexedDB (sealed: see vault.ts). One `InPagePeer` per open profile; the app gets one from
 * `openPeer`, `createPeer` or `restorePeer` and drives it through the API (client.ts) or directly.
 *
 * The peer is @jiayi/feed's `openPeer` (the same assembly as the node daemon's) over the vault's
 * store, a browser network, files in the sealed store, and a connection keeper for the relays
 * and contacts (a tab cannot be dialled except through a relay). The vault closes last.
 */
import {
  browserNetwork,
  type ConnectionInfo,
  createAccount,
  createJiayiNode,
  FileError,
  type FileService,
  generateDeviceKey,
  isReachableAddr,
  joinByLink,
  type Logger,
  loadAccount,
  type RekeyProgress,
} from '@jiayi/core'
import { openPeer as openJiayiPeer, type Peer } from '@jiayi/feed'
import { backupFileName, exportStore, importIntoStore } from './backup.js'
import { PeerError } from './errors.js'
import { StoreFileStorage } from './file-storage.js'
import { Vault, type VaultOptions, vaultStatus } from './vault.js'

export interface PeerNetworkOptions {
  /**
   * Node peers (multiaddrs ending in /p2p/<peer id>) to stay connected to and use as relays,
   * e.g. the LAN node that served this page.
   */
  readonly relays?: readonly string[] | undefined
  /** ICE configuration for browser-to-browser WebRTC; default none (LAN only, nothing to third parties). */
  readonly rtcConfiguration?: RTCConfiguration | undefined
  /** How often to redial relays and contacts we are not connected to (default 20 s). */
  readonly keepAliveMs?: number | undefined
}

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
  private constructor(
    readonly vault: Vault,
    private readonly peer: Peer,
    readonly storage: StoreFileStorage,
  ) {}

  /** Starts the peer on an unlocked vault that holds an account. Closes the vault if it fails. */
  static async start(vault: Vault, options: PeerOptions = {}): Promise<InPagePeer> {
    try {
      const account = await loadAccount(vault.store)
      if (account === undefined) throw new PeerError('NoAccount', 'this profile has no identity yet')
      const storage = new StoreFileStorage(vault.store)
      const peer = await openJiayiPeer({
        store: vault.store,
        closeStore: () => vault.close(),
        account,
        network: browserNetwork(
          options.rtcConfiguration ? { rtcConfiguration: options.rtcConfiguration } : {},
        ),
        fileStorage: storage,
        // The browser's quota is the origin's share, not the disk: a file need only fit in it.
        files: { autoDownload: { minFreeBytes: 0 } },
        keepConnected: { relays: options.relays, keepAliveMs: options.keepAliveMs },
        messenger: { deviceName: 'Browser' },
        log: options.log ?? quiet,
      })
      return new InPagePeer(vault, peer, storage)
    } catch (error) {
      await vault.close().catch(() => undefined)
      throw error
    }
  }

  get account() {
    return this.peer.account
  }

  get node() {
    return this.peer.node
  }

  get messenger() {
    return this.peer.messenger
  }

  get files() {
    return this.peer.files
  }

  get feed() {
    return this.peer.feed
  }

  get peerId(): string {
    return this.peer.peerId
  }

  /** Our addresses through relays (what other browsers dial), if any reservation is held. */
  reachableAddrs(): string[] {
    return this.node
      .getMultiaddrs()
      .map(String)
      .filter((a) => isReachableAddr(a))
  }

  /** Resolves once a relay reservation gives us a circuit WebRTC address (and so a card address). */
  reachable(timeoutMs = 15_000): Promise<string[]> {
    return this.peer.reachable(timeoutMs)
  }

  /** Redial relays and contacts now (e.g. when the page becomes visible or the network returns). */
  reconnect(): Promise<void> {
    return this.peer.reconnect()
  }

  /** How we are connected to a peer right now (lan / direct / relayed, transport), if at all. */
  connection(peerId: string): ConnectionInfo | undefined {
    return this.peer.connection(peerId)
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

  /** Stops the peer; the vault closes last. */
  stop(): Promise<void> {
    return this.peer.stop()
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
    await createAccount(vault.store, name, { deviceName: 'Browser' })
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

/**
 * Makes this tab another device of the person whose device made `link` (that device's Settings
 * "Link a device" or `jiayi devices link`): a node that only dials reaches it, `onCode` shows the
 * code to type there, and the handover fills a new profile, which then starts. A link refused or
 * broken off leaves no profile behind.
 */
export async function linkPeer(
  link: string,
  onCode: (code: string) => void,
  options: PeerOptions = {},
): Promise<InPagePeer> {
  const vault = await Vault.open(options.profile ?? DEFAULT_PROFILE, options)
  try {
    const deviceKey = await generateDeviceKey()
    // Dials only: the other device may be on this machine or this LAN (the page's own node).
    const node = await createJiayiNode({
      privateKey: deviceKey,
      network: browserNetwork(options.rtcConfiguration ? { rtcConfiguration: options.rtcConfiguration } : {}),
      listen: [],
      relayServer: false,
      alsoDial: ['loopback', 'link-local'],
    })
    try {
      await joinByLink({ link, store: vault.store, node, deviceKey, name: 'Browser', onCode })
    } finally {
      await Promise.resolve(node.stop()).catch(() => undefined)
    }
  } catch (error) {
    await vault.abandon()
    throw error
  }
  return InPagePeer.start(vault, options)
}
