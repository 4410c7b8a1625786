/**
 * The in-page peer under test: the runtime of apps/web/src/peer, loaded lazily exactly as the app
 * loads it, driven by the Node tests through `globalThis.jiayiTest` with plain JSON in and out.
 */
import type { InPagePeer, PeerOptions } from '../../src/peer/index.js'

type Peer = typeof import('../../src/peer/index.js')

let lib: Peer | undefined
let peer: InPagePeer | undefined
let client: Awaited<ReturnType<Peer['createInPageClientWith']>> | undefined
const clientEvents: { event: string; payload: unknown }[] = []
const events: { type: string; [k: string]: unknown }[] = []

async function load(): Promise<Peer> {
  lib ??= await import('../../src/peer/index.js')
  return lib
}

function running(): InPagePeer {
  if (peer === undefined) throw new Error('no peer running')
  return peer
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function base64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

function fromBase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

/** Deterministic test bytes (xorshift), made chunk by chunk into a Blob. */
function testBlob(size: number, seed: number): Blob {
  const parts: Blob[] = []
  let x = seed >>> 0 || 1
  for (let at = 0; at < size; at += 65_536) {
    const part = new Uint8Array(Math.min(65_536, size - at))
    for (let i = 0; i < part.length; i++) {
      x ^= x << 13
      x ^= x >>> 17
      x ^= x << 5
      part[i] = x & 0xff
    }
    parts.push(new Blob([part]))
  }
  return new Blob(parts)
}

async function sha256Hex(blob: Blob): Promise<string> {
  return hex(new Uint8Array(await crypto.subtle.digest('SHA-256', await blob.arrayBuffer())))
}

function watch(p: InPagePeer): InPagePeer {
  p.messenger.events.on('message', (e) =>
    events.push({ type: 'message', change: e.change, id: e.message.id, status: e.message.status }),
  )
  p.messenger.events.on('contact', (e) => events.push({ type: 'contact', change: e.change, id: e.id }))
  return p
}

const api = {
  async status(profile: string) {
    return (await load()).profileStatus(profile)
  },
  async create(name: string, options: PeerOptions) {
    peer = watch(await (await load()).createPeer(name, options))
    return api.info()
  },
  async open(options: PeerOptions) {
    try {
      peer = watch(await (await load()).openPeer(options))
    } catch (error) {
      return { error: (error as { code?: string }).code ?? String(error) }
    }
    return api.info()
  },
  async stop() {
    await peer?.stop()
    peer = undefined
  },
  info() {
    const p = running()
    return {
      peerId: p.peerId,
      me: p.messenger.whoami(),
      card: p.messenger.card(),
      reachable: p.reachableAddrs(),
    }
  },
  async reachable() {
    await running().reachable()
    return api.info()
  },
  async add(link: string) {
    return running().messenger.addContact(link)
  },
  contacts() {
    return running().messenger.contactList()
  },
  async send(ref: string, text: string) {
    return running().messenger.send(ref, text)
  },
  async messages(ref: string, peek = true) {
    return running().messenger.messages(ref, { peek })
  },
  connection(peerId: string) {
    return running().connection(peerId) ?? null
  },
  /** Every open connection to a peer, each as core describes it. */
  async connections(peerId: string) {
    const { describeConnection } = await import('@jiayi/core')
    return running()
      .node.getConnections()
      .filter((c) => c.remotePeer.toString() === peerId && c.status === 'open')
      .map((c) => describeConnection(c))
  },
  async sendFile(ref: string, size: number, seed: number, name: string) {
    const blob = testBlob(size, seed)
    const transfer = await running().sendBlob(
      ref,
      new File([blob], name, { type: 'application/octet-stream' }),
    )
    return { id: transfer.id, sha256: await sha256Hex(blob) }
  },
  transfers() {
    return running().files.transfers()
  },
  async fileSha256(id: string) {
    const p = running()
    const t = await p.files.waitFor(id, { signal: AbortSignal.timeout(30_000) })
    if (t.status !== 'complete') return { status: t.status, reason: t.reason ?? null }
    const url = await p.fileUrl(id)
    const blob = await (await fetch(url)).blob()
    URL.revokeObjectURL(url)
    return { status: t.status, sha256: await sha256Hex(blob), size: blob.size, name: t.name }
  },
  async post(text: string) {
    return running().feed.post(text)
  },
  timeline() {
    return running().feed.timeline()
  },
  async like(postId: string) {
    return running().feed.like(postId)
  },
  async comment(postId: string, text: string) {
    return running().feed.comment(postId, text)
  },
  async exportBackup(passphrase: string) {
    const { blob, fileName } = await running().exportBackup(passphrase)
    return { fileName, data: base64(new Uint8Array(await blob.arrayBuffer())), type: blob.type }
  },
  async restore(data: string, backupPassphrase: string, options: PeerOptions) {
    try {
      peer = watch(
        await (await load()).restorePeer(
          new Blob([fromBase64(data) as Uint8Array<ArrayBuffer>]),
          backupPassphrase,
          options,
        ),
      )
    } catch (error) {
      return { error: (error as { code?: string }).code ?? String(error) }
    }
    return api.info()
  },
  async setPassphrase(current: string | null, next: string | null) {
    await running().setPassphrase(current ?? undefined, next ?? undefined)
    return running().vault.lock
  },
  /** Secrets that must never appear in storage: private keys, as hex. */
  secrets() {
    const a = running().account
    return [
      hex(a.identity.signing.secretKey),
      hex(a.identity.agreement.secretKey),
      hex(a.deviceKey.raw.subarray(0, 32)),
    ]
  },
  /** Every raw record of the profile's IndexedDB store and of the device-key database, as hex. */
  async rawRecords(profile: string) {
    const { storeDatabaseName, KEYS_DB } = await load()
    const dump = async (name: string) => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const r = indexedDB.open(name)
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error)
      })
      const out: { store: string; key: string; value: string }[] = []
      for (const store of Array.from(db.objectStoreNames)) {
        const tx = db.transaction(store, 'readonly')
        const s = tx.objectStore(store)
        const [keys, values] = await Promise.all(
          [s.getAllKeys(), s.getAll()].map(
            (r) =>
              new Promise<unknown[]>((resolve, reject) => {
                r.onsuccess = () => resolve(r.result as unknown[])
                r.onerror = () => reject(r.error)
              }),
          ),
        )
        keys!.forEach((k, i) => {
          const v = values![i]
          out.push({
            store,
            key: bytesOf(k),
            value: v instanceof CryptoKey ? `cryptokey:${v.extractable}` : bytesOf(v),
          })
        })
      }
      db.close()
      return out
    }
    return { store: await dump(storeDatabaseName(profile)), keys: await dump(KEYS_DB) }
  },
  /** Whether the stored device key can be exported (it must not). */
  async deviceKeyExportable(profile: string) {
    const { KEYS_DB } = await load()
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open(KEYS_DB)
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    const key = await new Promise<CryptoKey>((resolve, reject) => {
      const r = db.transaction('keys').objectStore('keys').get(profile)
      r.onsuccess = () => resolve(r.result as CryptoKey)
      r.onerror = () => reject(r.error)
    })
    db.close()
    try {
      await crypto.subtle.exportKey('raw', key)
      return true
    } catch {
      return false
    }
  },
  events() {
    return events
  },

  // ------------------------------------------------------------------ the JiayiClient (client.ts)
  async clientStart(profile: string, relays: string[]) {
    client = await (await load()).createInPageClientWith({ profile, relays })
    for (const event of ['message', 'contact', 'transfer'] as const)
      client.on(event, (payload) => clientEvents.push({ event, payload }))
    const account = await client.onboarding!.state()
    return { account, state: client.state }
  },
  async clientCreate(name: string) {
    await client!.onboarding!.create(name)
    return client!.state
  },
  async clientCall(method: string, params?: Record<string, unknown>) {
    try {
      return await (client!.call as (m: string, p?: unknown) => Promise<unknown>)(method, params)
    } catch (error) {
      return { error: (error as { code?: string }).code ?? String(error) }
    }
  },
  async clientUpload(size: number, seed: number, name: string) {
    const blob = testBlob(size, seed)
    const progress: number[] = []
    const handle = await client!.upload(blob, name, (p) => progress.push(p.loaded))
    return { handle, sha256: await sha256Hex(blob), progress }
  },
  async clientFileSha256(transferId: string) {
    const blob = await client!.fileBlob(transferId)
    return { sha256: await sha256Hex(blob), size: blob.size }
  },
  clientEvents() {
    return clientEvents
  },
  clientClose() {
    client?.close()
    const state = client?.state
    client = undefined
    return state
  },
}

function bytesOf(value: unknown): string {
  if (typeof value === 'string') return `str:${value}`
  if (value instanceof Uint8Array) return hex(value)
  if (value instanceof ArrayBuffer) return hex(new Uint8Array(value))
  if (ArrayBuffer.isView(value)) return hex(new Uint8Array(value.buffer, value.byteOffset, value.byteLength))
  return `other:${typeof value}:${hex(new TextEncoder().encode(JSON.stringify(value) ?? ''))}`
}

export type JiayiTestApi = typeof api
;(globalThis as Record<string, unknown>).jiayiTest = api
