/**
 * Session state to versioned bytes and back (protobuf, schema in state-record.proto).
 * Restoring checks every field's shape so that corrupted or hostile bytes give CryptoError
 * 'BadState' instead of a state that fails later in confusing ways.
 */
import { CryptoError } from '../errors.js'
import { KEY_BYTES } from '../primitives.js'
import { MAX_RETIRED_CHAINS, MAX_SKIPPED_CHAINS, MAX_SKIPPED_KEYS } from './constants.js'
import type { Chain, RatchetState, SkippedChain } from './state.js'
import { RatchetStateRecord } from './state-record.pb.js'

export const STATE_VERSION = 1

export function serializeRatchetState(state: RatchetState): Uint8Array {
  return RatchetStateRecord.encode({
    version: STATE_VERSION,
    dhSelfSecret: state.dhSelf.secretKey as Uint8Array<ArrayBuffer>,
    dhSelfPublic: state.dhSelf.publicKey as Uint8Array<ArrayBuffer>,
    dhRemote: state.dhRemote as Uint8Array<ArrayBuffer> | undefined,
    rootKey: state.rootKey as Uint8Array<ArrayBuffer>,
    send: state.send && { chainKey: state.send.chainKey as Uint8Array<ArrayBuffer>, n: state.send.n },
    recv: state.recv && { chainKey: state.recv.chainKey as Uint8Array<ArrayBuffer>, n: state.recv.n },
    prevSendCount: state.prevSendCount,
    headerKeySend: state.headerKeySend as Uint8Array<ArrayBuffer> | undefined,
    headerKeyRecv: state.headerKeyRecv as Uint8Array<ArrayBuffer> | undefined,
    nextHeaderKeySend: state.nextHeaderKeySend as Uint8Array<ArrayBuffer>,
    nextHeaderKeyRecv: state.nextHeaderKeyRecv as Uint8Array<ArrayBuffer>,
    skipped: state.skipped.map((c) => ({
      headerKey: c.headerKey as Uint8Array<ArrayBuffer>,
      keys: [...c.keys].map(([n, messageKey]) => ({ n, messageKey: messageKey as Uint8Array<ArrayBuffer> })),
    })),
    retiredHeaderKeys: (state.retiredHeaderKeys ?? []) as Uint8Array<ArrayBuffer>[],
  })
}

export function deserializeRatchetState(bytes: Uint8Array): RatchetState {
  let record: RatchetStateRecord
  try {
    record = RatchetStateRecord.decode(bytes)
  } catch (cause) {
    throw new CryptoError('BadState', 'session state bytes do not parse', { cause })
  }
  if (record.version !== STATE_VERSION) throw new CryptoError('BadState', 'unknown session state version')
  let total = 0
  const skipped: SkippedChain[] = record.skipped.map((c) => {
    const keys = new Map<number, Uint8Array>()
    for (const k of c.keys) keys.set(k.n, key(k.messageKey, 'skipped message key'))
    total += keys.size
    return { headerKey: key(c.headerKey, 'skipped header key'), keys }
  })
  if (skipped.length > MAX_SKIPPED_CHAINS || total > MAX_SKIPPED_KEYS) {
    throw new CryptoError('BadState', 'session state holds more skipped keys than allowed')
  }
  if (record.retiredHeaderKeys.length > MAX_RETIRED_CHAINS)
    throw new CryptoError('BadState', 'session state holds more retired chains than allowed')
  const retired = record.retiredHeaderKeys.map((k) => key(k, 'retired header key'))
  return {
    dhSelf: {
      secretKey: key(record.dhSelfSecret, 'ratchet secret key'),
      publicKey: key(record.dhSelfPublic, 'ratchet public key'),
    },
    dhRemote: optionalKey(record.dhRemote, 'remote ratchet key'),
    rootKey: key(record.rootKey, 'root key'),
    send: chain(record.send),
    recv: chain(record.recv),
    prevSendCount: record.prevSendCount,
    headerKeySend: optionalKey(record.headerKeySend, 'sending header key'),
    headerKeyRecv: optionalKey(record.headerKeyRecv, 'receiving header key'),
    nextHeaderKeySend: key(record.nextHeaderKeySend, 'next sending header key'),
    nextHeaderKeyRecv: key(record.nextHeaderKeyRecv, 'next receiving header key'),
    skipped,
    ...(retired.length === 0 ? {} : { retiredHeaderKeys: retired }),
  }
}

function key(bytes: Uint8Array, what: string): Uint8Array {
  if (bytes.length !== KEY_BYTES)
    throw new CryptoError('BadState', `${what} in session state has the wrong length`)
  return bytes
}

function optionalKey(bytes: Uint8Array | undefined, what: string): Uint8Array | undefined {
  return bytes === undefined ? undefined : key(bytes, what)
}

function chain(record: { chainKey: Uint8Array; n: number } | undefined): Chain | undefined {
  return record && { chainKey: key(record.chainKey, 'chain key'), n: record.n }
}
