/**
 * "After the current macrotask": setImmediate in Node, a zero timeout elsewhere (browsers have no
 * setImmediate). Used to let the work of one turn of the event loop (one socket read carries many
 * frames) gather before it is handled together.
 */
export function afterTurn(f: () => void): void {
  const immediate = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate
  if (immediate) immediate(f)
  else setTimeout(f, 0)
}

export function nextTurn(): Promise<void> {
  return new Promise((resolve) => afterTurn(resolve))
}
