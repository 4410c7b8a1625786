/**
 * @jiayi/api — the API a Jiayi peer offers to what drives it: the `jiayi` CLI (over a Unix
 * socket), the web app as the UI of a node (over a loopback WebSocket) and the web app as a full
 * peer in a browser tab (in process). Isomorphic: no Node APIs, no DOM. Its runtime imports of
 * @jiayi/core and @jiayi/feed are types only, so a client bundle stays small.
 */
export { ACCOUNT_METHODS, type AccountMethodName } from './account-methods.js'
export {
  ApiCallError,
  type ApiClient,
  ApiClosedError,
  type CallableMethod,
  type LocalClient,
  localClient,
  type ParamsArg,
  RpcClient,
} from './client.js'
export { ControlDispatcher, ControlSession, type DispatcherOptions, METHODS } from './dispatcher.js'
export { FEED_METHODS, type FeedMethodName } from './feed-methods.js'
export { FILE_METHODS, type FileMethodName } from './file-methods.js'
export { GROUP_METHODS, type GroupMethodName } from './group-methods.js'
export type { AccountHost, ApiHost, ApiLog, FeedApi, FileHost, MessengerApi } from './host.js'
export { LABEL_METHODS, type LabelMethodName } from './label-methods.js'
export { MESSENGER_METHODS, type MessengerMethodName } from './messenger-methods.js'
export * from './methods.js'
export {
  ControlError,
  type ControlErrorBody,
  type ControlErrorCode,
  type ControlNotification,
  type ControlRequest,
  type ControlResponse,
  isNotification,
  isResponse,
  MAX_MESSAGE_BYTES,
  parseRequest,
  type RequestId,
} from './protocol.js'
export { ClientWork, HEAVY_PER_CLIENT, HEAVY_QUEUED_PER_CLIENT, HEAVY_TOTAL, HeavyGate } from './work.js'
