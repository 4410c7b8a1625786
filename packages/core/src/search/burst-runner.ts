/**
 * Runs a piece of work once a burst of changes is over: each `schedule` waits `delay` more, but
 * never past `maxWait` from the first change waiting. Runs never overlap; a failed run is logged
 * and the next change tries again. What the search indexers (messages, Moments) share.
 */
export interface BurstRunnerInit {
  readonly delayMs: number
  readonly maxWaitMs: number
  readonly run: () => Promise<void>
  /** Called with a failed run's error name (never its message: it may hold user text). */
  readonly failed: (errorName: string) => void
}

export class BurstRunner {
  private timer: ReturnType<typeof setTimeout> | undefined
  private waitingSince: number | undefined
  private running: Promise<void> = Promise.resolve()
  private stopped = false

  constructor(private readonly init: BurstRunnerInit) {}

  schedule(delay = this.init.delayMs): void {
    if (this.stopped) return
    const now = Date.now()
    this.waitingSince ??= now
    if (this.timer !== undefined) {
      if (now - this.waitingSince >= this.init.maxWaitMs) return // due soon anyway
      clearTimeout(this.timer)
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.waitingSince = undefined
      this.runNext()
    }, delay)
  }

  /** Runs now what waits, and resolves when every run so far is over. */
  async settled(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer)
      this.timer = undefined
      this.waitingSince = undefined
      this.runNext()
    }
    await this.running
  }

  async stop(): Promise<void> {
    this.stopped = true
    clearTimeout(this.timer)
    await this.running
  }

  private runNext(): void {
    this.running = this.running
      .then(() => this.init.run())
      .catch((error) => this.init.failed(error instanceof Error ? error.name : 'unknown'))
  }
}
