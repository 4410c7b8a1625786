import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface PreKeyMessage {
  version: number
  identitySigningKey: Uint8Array<ArrayBuffer>
  identityAgreementKey: Uint8Array<ArrayBuffer>
  ephemeralKey: Uint8Array<ArrayBuffer>
  signedPrekeyId: number
  oneTimePrekeyId?: number
  kemPrekeyId?: number
  kemCiphertext?: Uint8Array<ArrayBuffer>
  message: Uint8Array<ArrayBuffer>
}

export namespace PreKeyMessage {
  let _codec: Codec<PreKeyMessage>

  export const codec = (): Codec<PreKeyMessage> => {
    if (_codec == null) {
      _codec = message<PreKeyMessage>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.identitySigningKey != null && obj.identitySigningKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.identitySigningKey)
        }

        if ((obj.identityAgreementKey != null && obj.identityAgreementKey.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.identityAgreementKey)
        }

        if ((obj.ephemeralKey != null && obj.ephemeralKey.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.ephemeralKey)
        }

        if ((obj.signedPrekeyId != null && obj.signedPrekeyId !== 0)) {
          w.uint32(40)
          w.uint32(obj.signedPrekeyId)
        }

        if (obj.oneTimePrekeyId != null) {
          w.uint32(48)
          w.uint32(obj.oneTimePrekeyId)
        }

        if (obj.kemPrekeyId != null) {
          w.uint32(56)
          w.uint32(obj.kemPrekeyId)
        }

        if (obj.kemCiphertext != null) {
          w.uint32(66)
          w.bytes(obj.kemCiphertext)
        }

        if ((obj.message != null && obj.message.byteLength > 0)) {
          w.uint32(74)
          w.bytes(obj.message)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          identitySigningKey: uint8ArrayAlloc(0),
          identityAgreementKey: uint8ArrayAlloc(0),
          ephemeralKey: uint8ArrayAlloc(0),
          signedPrekeyId: 0,
          message: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.identitySigningKey = reader.bytes()
              break
            }
            case 3: {
              obj.identityAgreementKey = reader.bytes()
              break
            }
            case 4: {
              obj.ephemeralKey = reader.bytes()
              break
            }
            case 5: {
              obj.signedPrekeyId = reader.uint32()
              break
            }
            case 6: {
              obj.oneTimePrekeyId = reader.uint32()
              break
            }
            case 7: {
              obj.kemPrekeyId = reader.uint32()
              break
            }
            case 8: {
              obj.kemCiphertext = reader.bytes()
              break
            }
            case 9: {
              obj.message = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.identitySigningKey`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.identityAgreementKey`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.ephemeralKey`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.signedPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.oneTimePrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.kemPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.kemCiphertext`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.message`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PreKeyMessageVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface PreKeyMessageIdentitySigningKeyFieldEvent {
    field: '$.identitySigningKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyMessageIdentityAgreementKeyFieldEvent {
    field: '$.identityAgreementKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyMessageEphemeralKeyFieldEvent {
    field: '$.ephemeralKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyMessageSignedPrekeyIdFieldEvent {
    field: '$.signedPrekeyId'
    value: number
  }

  export interface PreKeyMessageOneTimePrekeyIdFieldEvent {
    field: '$.oneTimePrekeyId'
    value: number
  }

  export interface PreKeyMessageKemPrekeyIdFieldEvent {
    field: '$.kemPrekeyId'
    value: number
  }

  export interface PreKeyMessageKemCiphertextFieldEvent {
    field: '$.kemCiphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PreKeyMessageMessageFieldEvent {
    field: '$.message'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PreKeyMessage>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PreKeyMessage.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PreKeyMessage>): PreKeyMessage {
    return decodeMessage(buf, PreKeyMessage.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PreKeyMessage>): Generator<PreKeyMessageVersionFieldEvent | PreKeyMessageIdentitySigningKeyFieldEvent | PreKeyMessageIdentityAgreementKeyFieldEvent | PreKeyMessageEphemeralKeyFieldEvent | PreKeyMessageSignedPrekeyIdFieldEvent | PreKeyMessageOneTimePrekeyIdFieldEvent | PreKeyMessageKemPrekeyIdFieldEvent | PreKeyMessageKemCiphertextFieldEvent | PreKeyMessageMessageFieldEvent> {
    return streamMessage(buf, PreKeyMessage.codec(), opts)
  }
}

export interface PendingInitRecord {
  ephemeralKey: Uint8Array<ArrayBuffer>
  signedPrekeyId: number
  oneTimePrekeyId?: number
  kemPrekeyId?: number
  kemCiphertext?: Uint8Array<ArrayBuffer>
}

export namespace PendingInitRecord {
  let _codec: Codec<PendingInitRecord>

  export const codec = (): Codec<PendingInitRecord> => {
    if (_codec == null) {
      _codec = message<PendingInitRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ephemeralKey != null && obj.ephemeralKey.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.ephemeralKey)
        }

        if ((obj.signedPrekeyId != null && obj.signedPrekeyId !== 0)) {
          w.uint32(16)
          w.uint32(obj.signedPrekeyId)
        }

        if (obj.oneTimePrekeyId != null) {
          w.uint32(24)
          w.uint32(obj.oneTimePrekeyId)
        }

        if (obj.kemPrekeyId != null) {
          w.uint32(32)
          w.uint32(obj.kemPrekeyId)
        }

        if (obj.kemCiphertext != null) {
          w.uint32(42)
          w.bytes(obj.kemCiphertext)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ephemeralKey: uint8ArrayAlloc(0),
          signedPrekeyId: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ephemeralKey = reader.bytes()
              break
            }
            case 2: {
              obj.signedPrekeyId = reader.uint32()
              break
            }
            case 3: {
              obj.oneTimePrekeyId = reader.uint32()
              break
            }
            case 4: {
              obj.kemPrekeyId = reader.uint32()
              break
            }
            case 5: {
              obj.kemCiphertext = reader.bytes()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.ephemeralKey`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.signedPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.oneTimePrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.kemPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.kemCiphertext`,
                value: reader.bytes()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface PendingInitRecordEphemeralKeyFieldEvent {
    field: '$.ephemeralKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PendingInitRecordSignedPrekeyIdFieldEvent {
    field: '$.signedPrekeyId'
    value: number
  }

  export interface PendingInitRecordOneTimePrekeyIdFieldEvent {
    field: '$.oneTimePrekeyId'
    value: number
  }

  export interface PendingInitRecordKemPrekeyIdFieldEvent {
    field: '$.kemPrekeyId'
    value: number
  }

  export interface PendingInitRecordKemCiphertextFieldEvent {
    field: '$.kemCiphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PendingInitRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PendingInitRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PendingInitRecord>): PendingInitRecord {
    return decodeMessage(buf, PendingInitRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PendingInitRecord>): Generator<PendingInitRecordEphemeralKeyFieldEvent | PendingInitRecordSignedPrekeyIdFieldEvent | PendingInitRecordOneTimePrekeyIdFieldEvent | PendingInitRecordKemPrekeyIdFieldEvent | PendingInitRecordKemCiphertextFieldEvent> {
    return streamMessage(buf, PendingInitRecord.codec(), opts)
  }
}

export interface SessionRecord {
  version: number
  ratchet: Uint8Array<ArrayBuffer>
  associatedData: Uint8Array<ArrayBuffer>
  remoteSigningKey: Uint8Array<ArrayBuffer>
  remoteAgreementKey: Uint8Array<ArrayBuffer>
  baseKey: Uint8Array<ArrayBuffer>
  postQuantum: boolean
  pendingInit?: PendingInitRecord
  withoutOneTimePrekey?: boolean
}

export namespace SessionRecord {
  let _codec: Codec<SessionRecord>

  export const codec = (): Codec<SessionRecord> => {
    if (_codec == null) {
      _codec = message<SessionRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.ratchet != null && obj.ratchet.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.ratchet)
        }

        if ((obj.associatedData != null && obj.associatedData.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.associatedData)
        }

        if ((obj.remoteSigningKey != null && obj.remoteSigningKey.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.remoteSigningKey)
        }

        if ((obj.remoteAgreementKey != null && obj.remoteAgreementKey.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.remoteAgreementKey)
        }

        if ((obj.baseKey != null && obj.baseKey.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.baseKey)
        }

        if ((obj.postQuantum != null && obj.postQuantum !== false)) {
          w.uint32(56)
          w.bool(obj.postQuantum)
        }

        if (obj.pendingInit != null) {
          w.uint32(66)
          PendingInitRecord.codec().encode(obj.pendingInit, w)
        }

        if (obj.withoutOneTimePrekey != null) {
          w.uint32(72)
          w.bool(obj.withoutOneTimePrekey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          ratchet: uint8ArrayAlloc(0),
          associatedData: uint8ArrayAlloc(0),
          remoteSigningKey: uint8ArrayAlloc(0),
          remoteAgreementKey: uint8ArrayAlloc(0),
          baseKey: uint8ArrayAlloc(0),
          postQuantum: false
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.version = reader.uint32()
              break
            }
            case 2: {
              obj.ratchet = reader.bytes()
              break
            }
            case 3: {
              obj.associatedData = reader.bytes()
              break
            }
            case 4: {
              obj.remoteSigningKey = reader.bytes()
              break
            }
            case 5: {
              obj.remoteAgreementKey = reader.bytes()
              break
            }
            case 6: {
              obj.baseKey = reader.bytes()
              break
            }
            case 7: {
              obj.postQuantum = reader.bool()
              break
            }
            case 8: {
              obj.pendingInit = PendingInitRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.pendingInit
              })
              break
            }
            case 9: {
              obj.withoutOneTimePrekey = reader.bool()
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }

        return obj
      }, function * (reader, length, prefix, opts = {}) {
        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.ratchet`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.associatedData`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.remoteSigningKey`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.remoteAgreementKey`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.baseKey`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.postQuantum`,
                value: reader.bool()
              }
              break
            }
            case 8: {
              yield * PendingInitRecord.codec().stream(reader, reader.uint32(), `${prefix}.pendingInit`, {
                limits: opts.limits?.pendingInit
              })

              break
            }
            case 9: {
              yield {
                field: `${prefix}.withoutOneTimePrekey`,
                value: reader.bool()
              }
              break
            }
            default: {
              reader.skipType(tag & 7)
              break
            }
          }
        }
      })
    }

    return _codec
  }

  export interface SessionRecordVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface SessionRecordRatchetFieldEvent {
    field: '$.ratchet'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordAssociatedDataFieldEvent {
    field: '$.associatedData'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordRemoteSigningKeyFieldEvent {
    field: '$.remoteSigningKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordRemoteAgreementKeyFieldEvent {
    field: '$.remoteAgreementKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordBaseKeyFieldEvent {
    field: '$.baseKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordPostQuantumFieldEvent {
    field: '$.postQuantum'
    value: boolean
  }

  export interface SessionRecordPendingInitEphemeralKeyFieldEvent {
    field: '$.pendingInit.ephemeralKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordPendingInitSignedPrekeyIdFieldEvent {
    field: '$.pendingInit.signedPrekeyId'
    value: number
  }

  export interface SessionRecordPendingInitOneTimePrekeyIdFieldEvent {
    field: '$.pendingInit.oneTimePrekeyId'
    value: number
  }

  export interface SessionRecordPendingInitKemPrekeyIdFieldEvent {
    field: '$.pendingInit.kemPrekeyId'
    value: number
  }

  export interface SessionRecordPendingInitKemCiphertextFieldEvent {
    field: '$.pendingInit.kemCiphertext'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SessionRecordWithoutOneTimePrekeyFieldEvent {
    field: '$.withoutOneTimePrekey'
    value: boolean
  }

  export function encode (obj: Partial<SessionRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SessionRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionRecord>): SessionRecord {
    return decodeMessage(buf, SessionRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SessionRecord>): Generator<SessionRecordVersionFieldEvent | SessionRecordRatchetFieldEvent | SessionRecordAssociatedDataFieldEvent | SessionRecordRemoteSigningKeyFieldEvent | SessionRecordRemoteAgreementKeyFieldEvent | SessionRecordBaseKeyFieldEvent | SessionRecordPostQuantumFieldEvent | SessionRecordPendingInitEphemeralKeyFieldEvent | SessionRecordPendingInitSignedPrekeyIdFieldEvent | SessionRecordPendingInitOneTimePrekeyIdFieldEvent | SessionRecordPendingInitKemPrekeyIdFieldEvent | SessionRecordPendingInitKemCiphertextFieldEvent | SessionRecordWithoutOneTimePrekeyFieldEvent> {
    return streamMessage(buf, SessionRecord.codec(), opts)
  }
}
