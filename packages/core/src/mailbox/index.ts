export {
  createDepositorList,
  createHomeCertificate,
  DEFAULT_HOME_VALIDITY_S,
  type DepositorList,
  type HomeCert,
  type HomeGrantInput,
  MAX_DEPOSITORS,
  MAX_HOME_ADDRS,
  verifyDepositorList,
  verifyHomeCertificate,
} from './certificate.js'
export {
  ackMail,
  certifyHomeNode,
  depositMail,
  type FetchedMail,
  fetchMail,
  MAILBOX_REQUEST_TIMEOUT_MS,
  type MailEnvelopeType,
  type MailToDeposit,
  openHomeStream,
  sendDepositors,
} from './client.js'
export { homeOf } from './contact-home.js'
export { MailboxError, type MailboxErrorCode } from './errors.js'
export { type HomeNodeInit, openHomeNode, type RunningHomeNode } from './home-node.js'
export { decodeHomeLink, type HomeNodeRef, homeLink } from './link.js'
export { HomeNodeOwner, type HomeNodeView } from './owner.js'
export {
  ITEM_OVERHEAD_BYTES,
  MAILBOX_BYTES_PER_DEPOSITOR,
  MAILBOX_TTL_MS,
  type MailboxLimits,
  MailboxServer,
  type MailboxServerInit,
  type MailboxStats,
} from './server.js'
