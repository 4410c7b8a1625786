/**
 * The SHA-256 of a file being sent, computed while its chunks go out instead of in a pass before
 * the offer: the sender counts each chunk in as it reads it, in order, and the digest travels
 * with the last chunk (PROTOCOL.md "Files"). Whatever was not counted in when the digest is asked
 * for (the sender restarted, so the chunks the receiver already had were never read here) is read
 * from the source then. One per outgoing transfer, kept across its streams (transfer handles).
 *
 * Every update goes through `add(offset, bytes)`, which takes bytes only where the hash stands:
 * a chunk sent again, a read ahead of the hash, or two streams racing for one file (one replaces
 * the other) can then never put a byte in twice or out of order.
 */
import { forEachBlock } from './hash-pass.js'
import type { Sha256Hasher } from './storage.js'

export class SourceHash {
  private hashed = 0
  private result: Uint8Array | undefined

  constructor(
    private readonly hasher: Sha256Hasher,
    readonly size: number,
  ) {}

  /** Bytes [0, hashedBytes) are counted in. */
  get hashedBytes(): number {
    return this.hashed
  }

  /** Counts in `bytes`, read at `offset`, if they continue what is hashed; anything else is left. */
  add(offset: number, bytes: Uint8Array): void {
    if (this.result !== undefined || offset !== this.hashed) return
    this.hasher.update(bytes)
    this.hashed += bytes.length
  }

  /** The digest of the whole file, reading what was not counted in yet with `read`. */
  async digest(read: (offset: number, length: number) => Promise<Uint8Array>): Promise<Uint8Array> {
    while (this.result === undefined && this.hashed < this.size) {
      await forEachBlock(read, this.hashed, this.size, (offset, block) => this.add(offset, block))
    }
    this.result ??= this.hasher.digest()
    return this.result
  }
}
