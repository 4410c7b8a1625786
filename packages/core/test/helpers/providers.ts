/**
 * Runs a suite once per crypto provider: @noble (the browser's) and node:crypto (Node's). The
 * provider is installed before the suite's tests and the previous one put back after them, so a
 * vector file proves both providers give its exact bytes.
 */
import { after, before, describe } from 'node:test'
import { nobleProvider } from '../../src/crypto/noble-provider.js'
import { nodeCryptoProvider } from '../../src/crypto/node-provider.js'
import { type CryptoProvider, setCryptoProvider } from '../../src/crypto/primitives.js'

export const PROVIDERS: readonly CryptoProvider[] = [nobleProvider, nodeCryptoProvider]

/** `describe(`${name} [provider]`)` for each provider, with that provider installed. */
export function describeEachProvider(name: string, suite: (provider: CryptoProvider) => void): void {
  for (const provider of PROVIDERS) {
    describe(`${name} [${provider.name}]`, () => {
      let previous: CryptoProvider | undefined
      before(() => {
        previous = setCryptoProvider(provider)
      })
      after(() => {
        if (previous !== undefined) setCryptoProvider(previous)
      })
      suite(provider)
    })
  }
}

/** Runs `fn` with `provider` installed (for code that computes outside a test, e.g. a vector set). */
export function withProvider<T>(provider: CryptoProvider, fn: () => T): T {
  const previous = setCryptoProvider(provider)
  try {
    return fn()
  } finally {
    setCryptoProvider(previous)
  }
}
