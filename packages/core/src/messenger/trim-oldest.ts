/**
 * Bounding a Map used as an LRU (insertion order = least recently used first).
 *
 * Deleting the single oldest entry on every insert looks cheap but is not: each
 * `map.keys().next()` starts at the front of V8's table and walks past every slot the earlier
 * deletions left there, until the table is next compacted. At 4,096 entries that was ~1.3 µs per
 * insert against ~0.1 µs when the map is let grow by a slack and trimmed in one pass.
 */

/** Lets `map` grow to `keep` + `slack` entries, then drops the oldest down to `keep` in one pass. */
export function trimOldest<K, V>(map: Map<K, V>, keep: number, slack = Math.max(1, keep >> 3)): void {
  if (map.size <= keep + slack) return
  let excess = map.size - keep
  for (const key of map.keys()) {
    if (excess-- === 0) break
    map.delete(key)
  }
}
