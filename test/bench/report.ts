/**
 * The benchmark line format every bench prints, one JSON object per figure:
 *   {"bench":"<name>","value":<n>,"unit":"<unit>","baseline":"<name>","ratio":<value/baseline>}
 * with the baseline measured in the same run. Extra fields describe the figure further.
 */
export interface BenchLine {
  readonly bench: string
  readonly value: number
  readonly unit: string
  readonly baseline: string
  readonly baselineValue: number
  readonly goal?: string
  readonly [extra: string]: unknown
}

export function report(line: BenchLine): void {
  const ratio = line.baselineValue === 0 ? null : line.value / line.baselineValue
  const { bench, value, unit, baseline, ...rest } = line
  process.stdout.write(
    `${JSON.stringify({ bench, value: round(value), unit, baseline, ratio: ratio === null ? null : round(ratio), ...roundAll(rest) })}\n`,
  )
}

function round(n: number): number {
  return Number(n.toPrecision(4))
}

function roundAll(values: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]))
}

/** Runs `fn` repeatedly for about `ms` milliseconds after a warm-up; returns operations per second. */
export function opsPerSecond(fn: () => void, ms = 1500): number {
  const warmUntil = performance.now() + ms / 5
  while (performance.now() < warmUntil) fn()
  let count = 0
  const start = performance.now()
  let now = start
  while (now - start < ms) {
    for (let i = 0; i < 16; i++) fn()
    count += 16
    now = performance.now()
  }
  return (count * 1000) / (now - start)
}

/** Median of `rounds` timings of `fn` in milliseconds. */
export function medianMs(fn: () => void, rounds = 51): number {
  const times: number[] = []
  for (let i = 0; i < 5; i++) fn()
  for (let i = 0; i < rounds; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)]!
}

/**
 * Operations per second of `a` and of `b`, measured in alternating rounds (the median of each
 * side's rounds): on a shared machine whose load moves during a run, two figures taken one after
 * the other can differ by half for identical code; alternating makes their ratio hold.
 */
export function compareOpsPerSecond(
  a: () => void,
  b: () => void,
  rounds = 9,
  ms = 150,
): { a: number; b: number } {
  opsPerSecond(a, ms)
  opsPerSecond(b, ms)
  const as: number[] = []
  const bs: number[] = []
  for (let i = 0; i < rounds; i++) {
    as.push(opsPerSecond(a, ms))
    bs.push(opsPerSecond(b, ms))
  }
  const median = (xs: number[]) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!
  return { a: median(as), b: median(bs) }
}
