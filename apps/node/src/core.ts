/**
 * @jiayi/core as the jiayi command runs it: with node:crypto's primitives installed before the
 * first key is used (@jiayi/core/node-crypto; core alone runs @noble's, as browsers do). Every
 * module here loads core through `loadCore()`, never with its own `import('@jiayi/core')`
 * (core-loading.test.ts holds it to that); commands that only talk to a running peer load neither.
 *
 * A command with no peer loads only the store (`loadHomeStore()`, @jiayi/core/home-store: no
 * libp2p), with the same primitives.
 *
 * JIAYI_CRYPTO=noble keeps @noble's primitives: `npm run bench` compares the two with it.
 */
export async function loadCore(): Promise<typeof import('@jiayi/core')> {
  const [core] = await Promise.all([import('@jiayi/core'), useNativeCrypto()])
  return core
}

export async function loadHomeStore(): Promise<typeof import('@jiayi/core/home-store')> {
  const [store] = await Promise.all([import('@jiayi/core/home-store'), useNativeCrypto()])
  return store
}

async function useNativeCrypto(): Promise<void> {
  const native = await import('@jiayi/core/node-crypto')
  if (process.env.JIAYI_CRYPTO !== 'noble') native.useNodeCrypto()
}
