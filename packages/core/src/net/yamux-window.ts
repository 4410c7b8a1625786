/**
 * Yamux window updates only when half the receive window is used up, as rust-yamux and go-yamux do.
 *
 * @libp2p/yamux 8 answers every data frame it receives with a window update: for a conversation
 * of small frames (an envelope, its ack) that doubles the frames on the wire, and each one costs
 * a Noise encryption, a socket write that wakes the peer, a read and a decryption there. Measured
 * at 1,000 msg/s this was ~2 extra frames per message. The spec leaves the timing of updates to
 * the receiver; waiting until half the window is used still leaves the sender half a window of
 * credit, so bulk transfers do not stall (the files tests and benchmark move GiBs this way).
 *
 * The library offers no option for it, so the policy is set on its stream class once, for every
 * Jiayi node in the process (installed by node-factory.ts). Streams still opening (SYN/ACK flags to
 * send) and paused ones keep the library's behaviour.
 */
import { StreamState, YamuxStream } from '@libp2p/yamux/stream'

interface WindowFields {
  state: StreamState
  recvWindow: number
  recvWindowCapacity: number
  sendWindowUpdate(): void
}

const INSTALLED = Symbol.for('jiayi.yamux-half-window-updates')

export function installHalfWindowUpdates(): void {
  const proto = YamuxStream.prototype as unknown as WindowFields & { [INSTALLED]?: true }
  if (proto[INSTALLED]) return
  const eager = proto.sendWindowUpdate
  proto.sendWindowUpdate = function (this: WindowFields) {
    if (this.state === StreamState.Established && this.recvWindowCapacity * 2 > this.recvWindow) return
    eager.call(this)
  }
  proto[INSTALLED] = true
}
