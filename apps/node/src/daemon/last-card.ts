/**
 * The card of the last run, kept (sealed) in the store so that `jiayi card` can show a card with
 * addresses while no peer runs. With remembered ports and the kept WebRTC-Direct certificate
 * those addresses are normally where the peer will listen again.
 */
import type { CardView, Store } from '@jiayi/core'
import { loadHomeStore } from '../core.js'

// Imported lazily: `jiayi card` with a running peer must not load @jiayi/core.
const lastCardKey = async () => (await loadHomeStore()).storeKey('node', 'last-card')

export async function saveLastCard(store: Store, card: CardView): Promise<void> {
  await store.put(await lastCardKey(), new TextEncoder().encode(JSON.stringify(card)))
}

export async function loadLastCard(store: Store): Promise<CardView | undefined> {
  const bytes = await store.get(await lastCardKey())
  if (bytes === undefined) return undefined
  try {
    const card = JSON.parse(Buffer.from(bytes).toString('utf8')) as CardView
    return typeof card.link === 'string' && typeof card.qr === 'string' && Array.isArray(card.addrs)
      ? card
      : undefined
  } catch {
    return undefined
  }
}
