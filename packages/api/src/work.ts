/**
 * Bounded work per client. Most methods are small (a send, a contact), but some read much: a
 * long history, every conversation, the feed, a backup, a file to hash. A client that asks for
 * a thousand of those at once must not take the peer's memory and CPU (a contact's message then
 * waits behind them) nor lose answers to a full socket buffer.
 *
 * So heavy requests (MethodSpec.heavy) run at most HEAVY_PER_CLIENT at a time per client, and at
 * most HEAVY_TOTAL at a time over all clients (the dispatcher's HeavyGate); a client's further
 * heavy requests wait in its queue, up to HEAVY_QUEUED_PER_CLIENT; beyond that they are answered
 * at once with ControlError 'Busy' (an answer, never a silence). A queued request starts only
 * when the client's transport has room (`writable`), so answers go out as fast as the client
 * reads them and no faster.
 */
import { ControlError } from './protocol.js'

export const HEAVY_PER_CLIENT = 2
export const HEAVY_QUEUED_PER_CLIENT = 32
export const HEAVY_TOTAL = 4

/** A counting semaphore in arrival order: the peer-wide limit on heavy work. */
export class HeavyGate {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly limit: number = HEAVY_TOTAL) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    else this.running++
    try {
      return await task()
    } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}

/** One client's heavy requests: a few at a time, a bounded queue, 'Busy' past it. */
export class ClientWork {
  private running = 0
  private readonly queue: (() => void)[] = []

  constructor(
    private readonly gate: HeavyGate,
    /** Resolves when the client's transport can take more (its answers are being read). */
    private readonly writable: () => Promise<void> = async () => {},
    private readonly limits = { running: HEAVY_PER_CLIENT, queued: HEAVY_QUEUED_PER_CLIENT },
  ) {}

  /** Requests in flight or waiting (for `idle`). */
  get pending(): number {
    return this.running + this.queue.length
  }

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limits.running) {
      if (this.queue.length >= this.limits.queued) {
        throw new ControlError(
          'Busy',
          `too many large requests at once (${this.limits.running} run, ${this.limits.queued} wait); ask again once some are answered`,
        )
      }
      await new Promise<void>((resolve) => this.queue.push(resolve))
    } else {
      this.running++
    }
    try {
      await this.writable()
      return await this.gate.run(task)
    } finally {
      const next = this.queue.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }
}
