/**
 * The user's choice to join the public libp2p network (public-dht.ts), kept in the store: the
 * web app's Settings switch writes it, and the Node peer reads it when it starts (a running
 * peer keeps the network it started with). `jiayi start --public-dht` turns it on for one run
 * without writing it; `--bootstrap ADDR` likewise replaces the saved list for one run.
 */
import { fromUtf8, utf8 } from '../bytes.js'
import { key } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { bootstrapAddrs, MAX_BOOTSTRAP } from './public-dht-config.js'

export interface PublicNetworkSetting {
  /** Join the public DHT and keep reservations on public relays at the next start. */
  readonly publicDht: boolean
  /** Bootstrap addresses; empty means libp2p's usual public ones (PUBLIC_BOOTSTRAP). */
  readonly bootstrap: readonly string[]
}

const SETTING_KEY = () => key('node', 'public-network')

export const PUBLIC_NETWORK_OFF: PublicNetworkSetting = { publicDht: false, bootstrap: [] }

export async function loadPublicNetwork(store: Store): Promise<PublicNetworkSetting> {
  const bytes = await store.get(SETTING_KEY())
  if (bytes === undefined) return PUBLIC_NETWORK_OFF
  try {
    const value = JSON.parse(fromUtf8(bytes)) as { publicDht?: unknown; bootstrap?: unknown }
    const list = Array.isArray(value.bootstrap)
      ? value.bootstrap.filter((a): a is string => typeof a === 'string')
      : []
    return { publicDht: value.publicDht === true, bootstrap: validBootstrap(list) }
  } catch {
    return PUBLIC_NETWORK_OFF
  }
}

export async function savePublicNetwork(
  store: Store,
  setting: PublicNetworkSetting,
): Promise<PublicNetworkSetting> {
  const clean = { publicDht: setting.publicDht === true, bootstrap: validBootstrap(setting.bootstrap) }
  await store.put(SETTING_KEY(), utf8(JSON.stringify(clean)))
  return clean
}

/** The addresses of `list` that parse and name a peer, at most MAX_BOOTSTRAP. */
export function validBootstrap(list: readonly string[]): string[] {
  return bootstrapAddrs(list.slice(0, MAX_BOOTSTRAP * 4)).map((a) => a.toString())
}
