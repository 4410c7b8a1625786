/** `jiayi start`: runs the peer (see daemon/peer.ts). */
import { type Context, optFlag } from '../cli/context.js'
import { peerOptions, runPeer } from '../daemon/peer.js'

export async function start(ctx: Context): Promise<number> {
  // A home node (daemon/home-node.ts): keyless, it serves the owner who links it.
  if (optFlag(ctx, 'serve')) {
    const { runHomeNode, homeNodeOptions } = await import('../daemon/home-node.js')
    return runHomeNode(ctx, homeNodeOptions(ctx))
  }
  return runPeer(ctx, peerOptions(ctx))
}
