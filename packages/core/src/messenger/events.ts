/** A small typed event emitter: `on()` returns the function that unsubscribes. */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly handlers = new Map<keyof Events, Set<(event: never) => void>>()

  on<K extends keyof Events>(type: K, handler: (event: Events[K]) => void): () => void {
    let set = this.handlers.get(type)
    if (set === undefined) {
      set = new Set()
      this.handlers.set(type, set)
    }
    set.add(handler as (event: never) => void)
    return () => set.delete(handler as (event: never) => void)
  }

  emit<K extends keyof Events>(type: K, event: Events[K]): void {
    for (const handler of this.handlers.get(type) ?? []) {
      try {
        ;(handler as (event: Events[K]) => void)(event)
      } catch {
        // A faulty listener must not break delivery for the others (or the protocol handler).
      }
    }
  }
}

/** Runs tasks one at a time per key (a per-conversation lock); different keys run concurrently. */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>()

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve()
    const next = previous.then(task, task)
    const tail = next.catch(() => undefined)
    this.tails.set(key, tail)
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key)
    })
    return next
  }

  /** Resolves once every task queued so far has finished. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.all([...this.tails.values()])
  }
}
