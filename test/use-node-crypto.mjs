// Node test and benchmark runs use node:crypto's primitives, as the jiayi command does
// (apps/node/src/core.ts), and JIAYI_CRYPTO=noble keeps @noble's, as there. Loaded after tsx by
// scripts/test.mjs and scripts/bench.mjs (`node --import`); the browser keeps @noble.
import { useNodeCrypto } from '@jiayi/core/node-crypto'

if (process.env.JIAYI_CRYPTO !== 'noble') useNodeCrypto()
