/**
 * Two tiny concurrency helpers for the chunk pipelines: a bounded single-producer/single-consumer
 * queue (so reading, sealing or opening, and writing overlap without ever holding more than a
 * few chunks) and a change notifier (the sender's window waits on the receiver's acks).
 */

interface Waiter {
  resolve(): void
  reject(error: unknown): void
}

export class BoundedQueue<T> {
  private readonly items: T[] = []
  private pushWaiter: Waiter | undefined
  private shiftWaiter: Waiter | undefined
  private failure: { error: unknown } | undefined

  constructor(readonly capacity: number) {}

  get length(): number {
    return this.items.length
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity) {
      this.throwIfFailed()
      await new Promise<void>((resolve, reject) => {
        this.pushWaiter = { resolve, reject }
      })
    }
    this.throwIfFailed()
    this.items.push(item)
    this.wake('shift')
  }

  async shift(): Promise<T> {
    while (this.items.length === 0) {
      this.throwIfFailed()
      await new Promise<void>((resolve, reject) => {
        this.shiftWaiter = { resolve, reject }
      })
    }
    const item = this.items.shift() as T
    this.wake('push')
    return item
  }

  /** Wakes both ends with `error`; every later push or shift throws it. */
  fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = { error }
    const waiters = [this.pushWaiter, this.shiftWaiter]
    this.pushWaiter = undefined
    this.shiftWaiter = undefined
    for (const w of waiters) w?.reject(error)
  }

  private throwIfFailed(): void {
    if (this.failure !== undefined) throw this.failure.error
  }

  private wake(which: 'push' | 'shift'): void {
    const waiter = which === 'push' ? this.pushWaiter : this.shiftWaiter
    if (which === 'push') this.pushWaiter = undefined
    else this.shiftWaiter = undefined
    waiter?.resolve()
  }
}

/** `wait()` resolves at the next `notify()` (or rejects at `fail()`). */
export class Notifier {
  private waiters: Waiter[] = []
  private failure: { error: unknown } | undefined

  wait(): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure.error)
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  notify(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.resolve()
  }

  fail(error: unknown): void {
    if (this.failure !== undefined) return
    this.failure = { error }
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(error)
  }
}
