/** `jiayi start`: runs the peer (see daemon/peer.ts). */
import type { Context } from '../cli/context.js'
import { peerOptions, runPeer } from '../daemon/peer.js'

export async function start(ctx: Context): Promise<number> {
  return runPeer(ctx, peerOptions(ctx))
}
