/**
 * A deterministic RandomSource for frozen vectors and reproducible property tests: SHA-256 in
 * counter mode over a seed. Never use outside tests.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import type { RandomSource } from '../../src/bytes.js'

export function deterministicRandom(seed: string | number): RandomSource {
  const seedBytes = new TextEncoder().encode(String(seed))
  let counter = 0
  return (length: number) => {
    const out = new Uint8Array(length)
    let offset = 0
    while (offset < length) {
      const block = new Uint8Array(seedBytes.length + 4)
      block.set(seedBytes)
      new DataView(block.buffer).setUint32(seedBytes.length, counter++)
      const digest = sha256(block)
      const take = Math.min(digest.length, length - offset)
      out.set(digest.subarray(0, take), offset)
      offset += take
    }
    return out
  }
}
