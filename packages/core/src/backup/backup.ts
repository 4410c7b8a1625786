/**
 * The encrypted backup: every record of a peer's store (identity, device key, contacts, sessions,
 * history, feed) as one file that only a passphrase opens, for "export a backup" in Settings
 * and "restore from a backup" at onboarding. Pure streaming codec: entries in, bytes out and
 * back, one frame (≤ ~1 MiB) at a time, so neither side holds a whole history in memory. The
 * app decides what goes in (the web peer leaves received file bytes out: they are not records).
 *
 * Grammar (version 1):
 *   backup  = magic %x01 m t p salt check *frame
 *   magic   = "JIAYI-BACKUP"                  ; 12 bytes, ASCII
 *   m, t, p = 4OCTET each, big-endian         ; Argon2id memory (KiB), passes, lanes
 *   salt    = 16OCTET
 *   check   = 24OCTET nonce, 16OCTET tag      ; seals nothing: a wrong passphrase is told apart
 *   frame   = length 24OCTET nonce sealed     ; length = bytes after it (nonce + sealed)
 *   plain   = last *entry                     ; a frame's plaintext
 *   last    = %x00 / %x01                     ; %x01 in the final frame only
 *   entry   = 4OCTET klen key 4OCTET vlen value
 * Key = Argon2id(NFC(passphrase), salt, m, t, p), 32 bytes. Sealing is XChaCha20-Poly1305 with
 * AD = "jiayi/backup/v1" || header (magic through salt) || u64be(frame index), check's index
 * being 2^64-1: frames cannot be reordered, dropped or mixed between backups, and the `last`
 * flag makes a truncated file fail instead of restoring a prefix.
 *
 * Restoring the same identity and device on two devices that both keep running breaks their
 * sessions (both advance the same ratchets): a backup is for moving or recovering a peer.
 */
import { concatBytes, randomBytes, readU32be, u32be, utf8, wipe } from '../bytes.js'
import { open, seal, TAG_BYTES, XNONCE_BYTES } from '../crypto/primitives.js'
import { defineError } from '../errors.js'
import { ARGON2_PARAMS, type Argon2Params, deriveStorageKeyFromPassphrase } from '../store/storage-key.js'
import { MAX_KEY_BYTES, MAX_VALUE_BYTES } from '../store/store.js'

/**
 * - BadFormat: not a Jiayi backup, an unknown version, damaged or truncated.
 * - BadPassphrase: the passphrase does not open it.
 */
export const BackupError = defineError('BackupError', ['BadFormat', 'BadPassphrase'] as const)
export type BackupError = InstanceType<typeof BackupError>

export const BACKUP_MAGIC = utf8('JIAYI-BACKUP')
export const BACKUP_MIME = 'application/x-jiayi-backup'
const VERSION = 0x01
const SALT_BYTES = 16
const HEADER_BYTES = BACKUP_MAGIC.length + 1 + 12 + SALT_BYTES
const CHECK_BYTES = XNONCE_BYTES + TAG_BYTES
const AD_LABEL = utf8('jiayi/backup/v1')
const CHECK_INDEX = 0xffff_ffff_ffff_ffffn
/** Plaintext bytes per frame before it is sealed (a single larger entry gets a frame of its own). */
const FRAME_TARGET_BYTES = 1024 * 1024
const MAX_FRAME_BYTES = 1 + 8 + MAX_KEY_BYTES + MAX_VALUE_BYTES + XNONCE_BYTES + TAG_BYTES
/** What a backup may ask of Argon2id on import (a planted file must not exhaust memory). */
const LIMITS = { mMax: 1024 * 1024, tMax: 64, pMax: 16 }

export type BackupEntry = readonly [key: Uint8Array, value: Uint8Array]

export interface BackupOptions {
  /** Argon2id cost (default core's ARGON2_PARAMS); only tests lower it. */
  readonly params?: Argon2Params
  readonly onProgress?: (fraction: number) => void
}

function ad(header: Uint8Array, index: bigint): Uint8Array {
  const i = new Uint8Array(8)
  new DataView(i.buffer).setBigUint64(0, index, false)
  return concatBytes(AD_LABEL, header, i)
}

/** Encrypts `entries` under `passphrase`; yields the file's bytes piece by piece. */
export async function* encodeBackup(
  entries: AsyncIterable<BackupEntry> | Iterable<BackupEntry>,
  passphrase: string,
  options: BackupOptions = {},
): AsyncGenerator<Uint8Array> {
  const { m, t, p } = options.params ?? ARGON2_PARAMS
  const salt = randomBytes(SALT_BYTES)
  const header = concatBytes(BACKUP_MAGIC, Uint8Array.of(VERSION), u32be(m), u32be(t), u32be(p), salt)
  const key = await deriveStorageKeyFromPassphrase(passphrase, salt, {
    params: { m, t, p },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  try {
    yield concatBytes(header, seal(key, new Uint8Array(0), ad(header, CHECK_INDEX)))
    let index = 0n
    let parts: Uint8Array[] = []
    let size = 0
    const frame = (last: boolean) => {
      const sealed = seal(key, concatBytes(Uint8Array.of(last ? 1 : 0), ...parts), ad(header, index++))
      parts = []
      size = 0
      return concatBytes(u32be(sealed.length), sealed)
    }
    for await (const [k, v] of entries) {
      if (k.length > MAX_KEY_BYTES || v.length > MAX_VALUE_BYTES)
        throw new BackupError('BadFormat', 'a record is too large for a backup')
      if (size > 0 && size + 8 + k.length + v.length > FRAME_TARGET_BYTES) yield frame(false)
      parts.push(u32be(k.length), k, u32be(v.length), v)
      size += 8 + k.length + v.length
    }
    yield frame(true)
  } finally {
    wipe(key)
  }
}

/** Reads exact byte counts out of arbitrarily cut chunks. */
class ByteReader {
  private buffer: Uint8Array = new Uint8Array(0)
  private done = false
  constructor(private readonly source: AsyncIterator<Uint8Array>) {}

  /** Exactly n bytes, or undefined at a clean end (no bytes at all); BadFormat if cut short. */
  async read(n: number): Promise<Uint8Array | undefined> {
    while (this.buffer.length < n && !this.done) {
      const next = await this.source.next()
      if (next.done) this.done = true
      else if (next.value.length > 0) this.buffer = concatBytes(this.buffer, next.value)
    }
    if (this.buffer.length === 0 && this.done) return undefined
    if (this.buffer.length < n) throw new BackupError('BadFormat', 'the backup is cut short')
    const out = this.buffer.slice(0, n)
    this.buffer = this.buffer.subarray(n)
    return out
  }
}

function checkParams(m: number, t: number, p: number): boolean {
  return p >= 1 && p <= LIMITS.pMax && t >= 1 && t <= LIMITS.tMax && m >= 8 * p && m <= LIMITS.mMax
}

/**
 * Opens a backup and yields its entries. Throws BackupError: BadPassphrase before any entry if
 * the passphrase is wrong; BadFormat (possibly after some entries: the caller must apply them
 * only once the whole file has been read) if the file is damaged or truncated.
 */
export async function* decodeBackup(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  passphrase: string,
  options: Pick<BackupOptions, 'onProgress'> = {},
): AsyncGenerator<BackupEntry> {
  const iterator =
    Symbol.asyncIterator in chunks
      ? (chunks as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]()
      : (async function* () {
          yield* chunks as Iterable<Uint8Array>
        })()
  const reader = new ByteReader(iterator)
  const header = await reader.read(HEADER_BYTES)
  const bad = (why: string) => new BackupError('BadFormat', why)
  if (header === undefined || !BACKUP_MAGIC.every((b, i) => header[i] === b))
    throw bad('this is not a Jiayi backup')
  if (header[BACKUP_MAGIC.length] !== VERSION) throw bad('this backup has an unknown version')
  const at = BACKUP_MAGIC.length + 1
  const m = readU32be(header, at)
  const t = readU32be(header, at + 4)
  const p = readU32be(header, at + 8)
  if (!checkParams(m, t, p)) throw bad('this backup asks for out-of-range Argon2id parameters')
  const salt = header.slice(at + 12)
  const check = await reader.read(CHECK_BYTES)
  if (check === undefined) throw bad('the backup is cut short')
  if (typeof passphrase !== 'string' || passphrase.length === 0)
    throw new BackupError('BadPassphrase', 'the passphrase is empty')
  const key = await deriveStorageKeyFromPassphrase(passphrase, salt, {
    params: { m, t, p },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  })
  try {
    try {
      open(key, check, ad(header, CHECK_INDEX))
    } catch {
      throw new BackupError('BadPassphrase', 'the passphrase does not open this backup')
    }
    for (let index = 0n; ; index++) {
      const length = await reader.read(4)
      if (length === undefined) throw bad('the backup is cut short')
      const n = readU32be(length)
      if (n < XNONCE_BYTES + TAG_BYTES + 1 || n > MAX_FRAME_BYTES) throw bad('the backup is damaged')
      const sealed = await reader.read(n)
      if (sealed === undefined) throw bad('the backup is cut short')
      let plain: Uint8Array
      try {
        plain = open(key, sealed, ad(header, index))
      } catch {
        throw bad('the backup is damaged')
      }
      const last = plain[0]
      if (last !== 0 && last !== 1) throw bad('the backup is damaged')
      let pos = 1
      while (pos < plain.length) {
        if (pos + 4 > plain.length) throw bad('the backup is damaged')
        const kl = readU32be(plain, pos)
        pos += 4
        if (kl === 0 || kl > MAX_KEY_BYTES || pos + kl + 4 > plain.length) throw bad('the backup is damaged')
        const k = plain.slice(pos, pos + kl)
        pos += kl
        const vl = readU32be(plain, pos)
        pos += 4
        if (pos + vl > plain.length) throw bad('the backup is damaged')
        const v = plain.slice(pos, pos + vl)
        pos += vl
        yield [k, v]
      }
      if (last === 1) {
        if ((await reader.read(1)) !== undefined) throw bad('the backup has bytes after its end')
        return
      }
    }
  } finally {
    wipe(key)
  }
}
