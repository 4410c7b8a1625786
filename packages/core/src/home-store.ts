/**
 * @jiayi/core for code that reads a home on disk without the network (Node only): the store and
 * the checks of its files, and the account. Nothing here imports libp2p's transports or the
 * messenger, so a command that runs with no peer (`jiayi whoami`) loads a fraction of what a
 * peer does; '@jiayi/core' and '@jiayi/core/node' export the same things beside everything else.
 */

export { deviceViews, loadOwnDeviceList } from './devices/own-list.js'
export { type Account, loadAccount } from './messenger/account.js'
export { hasKeyHeader, key as storeKey, LevelStore, openSealedStore, StoreError } from './store/index.js'
export {
  checkStoreFiles,
  type FileFacts,
  forgetStoreFiles,
  levelHasRoom,
  needsRepair,
  recordStoreFiles,
  recoveryProblems,
  type StoreFileProblem,
} from './store/level-files.js'
