/**
 * An independent, deliberately simple model of what a receiver can still decrypt: per sender
 * chain ("epoch") the message numbers whose keys were skipped, with the same bounds as the spec
 * implementation (MAX_SKIPPED_CHAINS chains, MAX_SKIPPED_KEYS keys, oldest evicted first).
 */
import { MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS } from '../../src/crypto/ratchet/index.js'

export interface Sent {
  readonly epoch: number
  readonly n: number
  /** Messages in the sender's previous chain when this one was sent. */
  readonly pn: number
}

export class ReceiverModel {
  private epoch = -1
  private nextN = 0
  private readonly skipped: { epoch: number; ns: number[] }[] = []

  /** True if the message should decrypt, false if it must be rejected as a duplicate/expired. */
  receive(m: Sent): boolean {
    if (m.epoch === this.epoch) {
      if (m.n < this.nextN) return this.take(m.epoch, m.n)
      this.skip(m.epoch, this.nextN, m.n)
      this.nextN = m.n + 1
      return true
    }
    if (m.epoch < this.epoch) return this.take(m.epoch, m.n)
    if (this.epoch >= 0) this.skip(this.epoch, this.nextN, m.pn)
    this.epoch = m.epoch
    this.nextN = 0
    this.skip(m.epoch, 0, m.n)
    this.nextN = m.n + 1
    return true
  }

  private take(epoch: number, n: number): boolean {
    const index = this.skipped.findIndex((c) => c.epoch === epoch)
    const chain = this.skipped[index]
    const at = chain ? chain.ns.indexOf(n) : -1
    if (!chain || at < 0) return false
    chain.ns.splice(at, 1)
    if (chain.ns.length === 0) this.skipped.splice(index, 1)
    return true
  }

  private skip(epoch: number, from: number, until: number): void {
    if (until <= from) return
    let chain = this.skipped.find((c) => c.epoch === epoch)
    if (!chain) {
      chain = { epoch, ns: [] }
      this.skipped.push(chain)
    }
    for (let n = from; n < until; n++) chain.ns.push(n)
    while (this.skipped.length > MAX_SKIPPED_CHAINS) this.skipped.shift()
    let total = this.skipped.reduce((sum, c) => sum + c.ns.length, 0)
    while (total > MAX_SKIPPED_KEYS) {
      const oldest = this.skipped[0]!
      oldest.ns.shift()
      if (oldest.ns.length === 0) this.skipped.shift()
      total--
    }
  }
}
