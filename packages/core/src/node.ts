/**
 * @jiayi/core for Node only: what needs Node builtins (TCP and mDNS transports, file storage on
 * disk). Browser code imports '@jiayi/core' alone, whose bundle contains no Node builtins.
 */

export { fileExists, NodeFileStorage, nodeFileSource, nodeSha256 } from './files/node-fs.js'
export * from './net/transports-node.js'
export {
  CLOSE_RECORD,
  checkStoreFiles,
  type FileFacts,
  fileKind,
  forgetStoreFiles,
  levelHasRoom,
  needsRepair,
  recordStoreFiles,
  recoveryProblems,
  type StoreFileKind,
  type StoreFileProblem,
  type StoreFilesCheck,
} from './store/level-files.js'
