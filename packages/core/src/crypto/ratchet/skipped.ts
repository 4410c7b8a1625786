/**
 * Bookkeeping of skipped message keys (MKSKIPPED in the spec), grouped per receiving chain so that
 * a message is matched by trying each chain's header key once, not once per stored key.
 * Bounds: MAX_SKIPPED_CHAINS chains and MAX_SKIPPED_KEYS keys in all; the oldest go first.
 * Every function returns new values and never mutates its inputs.
 */
import { equalBytes } from '../../bytes.js'
import { MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS } from './constants.js'
import type { SkippedChain } from './state.js'

export function addSkippedKeys(
  skipped: readonly SkippedChain[],
  headerKey: Uint8Array,
  entries: readonly (readonly [number, Uint8Array])[],
): readonly SkippedChain[] {
  if (entries.length === 0) return skipped
  const index = skipped.findIndex((c) => equalBytes(c.headerKey, headerKey))
  let chains: SkippedChain[]
  if (index >= 0) {
    const existing = skipped[index]!
    const keys = new Map(existing.keys)
    for (const [n, key] of entries) keys.set(n, key)
    chains = skipped.slice()
    chains[index] = { headerKey: existing.headerKey, keys }
  } else {
    chains = [...skipped, { headerKey, keys: new Map(entries) }]
  }
  while (chains.length > MAX_SKIPPED_CHAINS) chains.shift()
  return evictOverflow(chains)
}

function evictOverflow(chains: SkippedChain[]): SkippedChain[] {
  let total = 0
  for (const c of chains) total += c.keys.size
  let excess = total - MAX_SKIPPED_KEYS
  while (excess > 0 && chains.length > 0) {
    const oldest = chains[0]!
    if (oldest.keys.size <= excess) {
      excess -= oldest.keys.size
      chains.shift()
      continue
    }
    const keys = new Map(oldest.keys)
    for (const n of oldest.keys.keys()) {
      if (excess === 0) break
      keys.delete(n)
      excess--
    }
    chains[0] = { headerKey: oldest.headerKey, keys }
  }
  return chains
}

/** Removes and returns the key for message `n` of chain `chainIndex`, if it is still held. */
export function takeSkippedKey(
  skipped: readonly SkippedChain[],
  chainIndex: number,
  n: number,
): { messageKey: Uint8Array; skipped: readonly SkippedChain[] } | undefined {
  const chain = skipped[chainIndex]
  const messageKey = chain?.keys.get(n)
  if (chain === undefined || messageKey === undefined) return undefined
  const keys = new Map(chain.keys)
  keys.delete(n)
  const chains = skipped.slice()
  if (keys.size === 0) chains.splice(chainIndex, 1)
  else chains[chainIndex] = { headerKey: chain.headerKey, keys }
  return { messageKey, skipped: chains }
}
