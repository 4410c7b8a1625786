/**
 * What a member keeps of a group's messages to carry them to members who were away: the signed
 * sender-key ciphertexts exactly as sent (opaque to anyone outside the group), bounded by age and
 * total size. When two members meet they swap high-water marks, the highest iteration each holds
 * per sender and key, and each sends the other what lies above the other's marks.
 */
export interface CarryLimits {
  /** How long a ciphertext is kept for carrying. */
  readonly maxAgeMs: number
  /** Total bytes kept per group; past it the oldest go first. */
  readonly maxBytes: number
}

/** 14 days and 64 MiB per group: a week's holiday of a busy group (README, "Groups"). */
export const DEFAULT_CARRY_LIMITS: CarryLimits = { maxAgeMs: 14 * 24 * 3600_000, maxBytes: 64 * 1024 * 1024 }

/** One group message as it travels and is carried. */
export interface CarriedMessage {
  /** The sender's contact id (first 8 bytes of SHA-256 of their identity key, hex). */
  readonly sender: string
  readonly keyId: number
  readonly iteration: number
  /** The sender-key message (header, sealed body, signature). */
  readonly bytes: Uint8Array
  /** When this member got it (ms): what the age limit counts from. */
  readonly at: number
}

/**
 * Per sender, per key id: the highest iteration held (-1: the key, and nothing read with it yet).
 * A key not named is one the member cannot open.
 */
export type HighWaterMarks = Readonly<Record<string, Readonly<Record<number, number>>>>

const keyOf = (m: Pick<CarriedMessage, 'sender' | 'keyId' | 'iteration'>) =>
  `${m.sender}/${m.keyId}/${m.iteration}`

export class CarryStore {
  /** In arrival order, so the oldest are first to go. */
  private readonly kept = new Map<string, CarriedMessage>()
  private bytes = 0

  constructor(private readonly limits: CarryLimits = DEFAULT_CARRY_LIMITS) {}

  get size(): number {
    return this.kept.size
  }

  get totalBytes(): number {
    return this.bytes
  }

  has(m: Pick<CarriedMessage, 'sender' | 'keyId' | 'iteration'>): boolean {
    return this.kept.has(keyOf(m))
  }

  /** Keeps `m` (once) and applies the limits; returns false for one already kept. */
  keep(m: CarriedMessage, now = Date.now()): boolean {
    const k = keyOf(m)
    if (this.kept.has(k)) return false
    this.kept.set(k, m)
    this.bytes += m.bytes.length
    this.prune(now)
    return true
  }

  /** Forgets everything a sender sent (a member removed: nothing of theirs is carried on). */
  forgetSender(sender: string): void {
    for (const [k, m] of this.kept) {
      if (m.sender !== sender) continue
      this.kept.delete(k)
      this.bytes -= m.bytes.length
    }
  }

  prune(now = Date.now()): void {
    for (const [k, m] of this.kept) {
      if (now - m.at <= this.limits.maxAgeMs && this.bytes <= this.limits.maxBytes) break
      this.kept.delete(k)
      this.bytes -= m.bytes.length
    }
  }

  marks(): HighWaterMarks {
    const out: Record<string, Record<number, number>> = {}
    for (const m of this.kept.values()) {
      const bySender = out[m.sender] ?? {}
      out[m.sender] = bySender
      bySender[m.keyId] = Math.max(bySender[m.keyId] ?? -1, m.iteration)
    }
    return out
  }

  /**
   * What a member whose marks are `theirs` lacks, oldest first per sender. Only keys they name:
   * a key they do not hold (one from before they joined, or rotated away) opens nothing there.
   */
  missingFor(theirs: HighWaterMarks): CarriedMessage[] {
    const out: CarriedMessage[] = []
    for (const m of this.kept.values()) {
      const mark = theirs[m.sender]?.[m.keyId]
      if (mark !== undefined && m.iteration > mark) out.push(m)
    }
    return out.sort((a, b) =>
      a.sender < b.sender ? -1 : a.sender > b.sender ? 1 : a.iteration - b.iteration,
    )
  }
}
