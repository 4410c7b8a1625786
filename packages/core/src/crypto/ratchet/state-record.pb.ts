import { decodeMessage, encodeMessage, MaxLengthError, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface ChainRecord {
  chainKey: Uint8Array<ArrayBuffer>
  n: number
}

export namespace ChainRecord {
  let _codec: Codec<ChainRecord>

  export const codec = (): Codec<ChainRecord> => {
    if (_codec == null) {
      _codec = message<ChainRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.chainKey != null && obj.chainKey.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.chainKey)
        }

        if ((obj.n != null && obj.n !== 0)) {
          w.uint32(16)
          w.uint32(obj.n)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          chainKey: uint8ArrayAlloc(0),
          n: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.chainKey = reader.bytes()
              break
            }
            case 2: {
              obj.n = reader.uint32()
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
                field: `${prefix}.chainKey`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.n`,
                value: reader.uint32()
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

  export interface ChainRecordChainKeyFieldEvent {
    field: '$.chainKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ChainRecordNFieldEvent {
    field: '$.n'
    value: number
  }

  export function encode (obj: Partial<ChainRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, ChainRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChainRecord>): ChainRecord {
    return decodeMessage(buf, ChainRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<ChainRecord>): Generator<ChainRecordChainKeyFieldEvent | ChainRecordNFieldEvent> {
    return streamMessage(buf, ChainRecord.codec(), opts)
  }
}

export interface SkippedKeyRecord {
  n: number
  messageKey: Uint8Array<ArrayBuffer>
}

export namespace SkippedKeyRecord {
  let _codec: Codec<SkippedKeyRecord>

  export const codec = (): Codec<SkippedKeyRecord> => {
    if (_codec == null) {
      _codec = message<SkippedKeyRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.n != null && obj.n !== 0)) {
          w.uint32(8)
          w.uint32(obj.n)
        }

        if ((obj.messageKey != null && obj.messageKey.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.messageKey)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          n: 0,
          messageKey: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.n = reader.uint32()
              break
            }
            case 2: {
              obj.messageKey = reader.bytes()
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
                field: `${prefix}.n`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.messageKey`,
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

  export interface SkippedKeyRecordNFieldEvent {
    field: '$.n'
    value: number
  }

  export interface SkippedKeyRecordMessageKeyFieldEvent {
    field: '$.messageKey'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<SkippedKeyRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SkippedKeyRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SkippedKeyRecord>): SkippedKeyRecord {
    return decodeMessage(buf, SkippedKeyRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SkippedKeyRecord>): Generator<SkippedKeyRecordNFieldEvent | SkippedKeyRecordMessageKeyFieldEvent> {
    return streamMessage(buf, SkippedKeyRecord.codec(), opts)
  }
}

export interface SkippedChainRecord {
  headerKey: Uint8Array<ArrayBuffer>
  keys: SkippedKeyRecord[]
}

export namespace SkippedChainRecord {
  let _codec: Codec<SkippedChainRecord>

  export const codec = (): Codec<SkippedChainRecord> => {
    if (_codec == null) {
      _codec = message<SkippedChainRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.headerKey != null && obj.headerKey.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.headerKey)
        }

        if (obj.keys != null && obj.keys.length > 0) {
          for (const value of obj.keys) {
            w.uint32(18)
            SkippedKeyRecord.codec().encode(value, w)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          headerKey: uint8ArrayAlloc(0),
          keys: []
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.headerKey = reader.bytes()
              break
            }
            case 2: {
              if (opts.limits?.keys != null && obj.keys.length === opts.limits.keys) {
                throw new MaxLengthError('Decode error - repeated field "keys" had too many elements')
              }

              obj.keys.push(SkippedKeyRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.keys$
              }))
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
        const obj = {
          keys: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              yield {
                field: `${prefix}.headerKey`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              if (opts.limits?.keys != null && obj.keys === opts.limits.keys) {
                throw new MaxLengthError('Streaming decode error - repeated field "keys" had too many elements')
              }

              for (const evt of SkippedKeyRecord.codec().stream(reader, reader.uint32(), `${prefix}.keys[]`, {
                limits: opts.limits?.keys$
              })) {
                yield {
                  ...evt,
                  index: obj.keys
                }
              }

              obj.keys++

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

  export interface SkippedChainRecordHeaderKeyFieldEvent {
    field: '$.headerKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface SkippedChainRecordKeysNFieldEvent {
    field: '$.keys[].n'
    value: number
    index: number
  }

  export interface SkippedChainRecordKeysMessageKeyFieldEvent {
    field: '$.keys[].messageKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export function encode (obj: Partial<SkippedChainRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, SkippedChainRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SkippedChainRecord>): SkippedChainRecord {
    return decodeMessage(buf, SkippedChainRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<SkippedChainRecord>): Generator<SkippedChainRecordHeaderKeyFieldEvent | SkippedChainRecordKeysNFieldEvent | SkippedChainRecordKeysMessageKeyFieldEvent> {
    return streamMessage(buf, SkippedChainRecord.codec(), opts)
  }
}

export interface RatchetStateRecord {
  version: number
  dhSelfSecret: Uint8Array<ArrayBuffer>
  dhSelfPublic: Uint8Array<ArrayBuffer>
  dhRemote?: Uint8Array<ArrayBuffer>
  rootKey: Uint8Array<ArrayBuffer>
  send?: ChainRecord
  recv?: ChainRecord
  prevSendCount: number
  headerKeySend?: Uint8Array<ArrayBuffer>
  headerKeyRecv?: Uint8Array<ArrayBuffer>
  nextHeaderKeySend: Uint8Array<ArrayBuffer>
  nextHeaderKeyRecv: Uint8Array<ArrayBuffer>
  skipped: SkippedChainRecord[]
  retiredHeaderKeys: Uint8Array<ArrayBuffer>[]
}

export namespace RatchetStateRecord {
  let _codec: Codec<RatchetStateRecord>

  export const codec = (): Codec<RatchetStateRecord> => {
    if (_codec == null) {
      _codec = message<RatchetStateRecord>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.dhSelfSecret != null && obj.dhSelfSecret.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.dhSelfSecret)
        }

        if ((obj.dhSelfPublic != null && obj.dhSelfPublic.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.dhSelfPublic)
        }

        if (obj.dhRemote != null) {
          w.uint32(34)
          w.bytes(obj.dhRemote)
        }

        if ((obj.rootKey != null && obj.rootKey.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.rootKey)
        }

        if (obj.send != null) {
          w.uint32(50)
          ChainRecord.codec().encode(obj.send, w)
        }

        if (obj.recv != null) {
          w.uint32(58)
          ChainRecord.codec().encode(obj.recv, w)
        }

        if ((obj.prevSendCount != null && obj.prevSendCount !== 0)) {
          w.uint32(64)
          w.uint32(obj.prevSendCount)
        }

        if (obj.headerKeySend != null) {
          w.uint32(74)
          w.bytes(obj.headerKeySend)
        }

        if (obj.headerKeyRecv != null) {
          w.uint32(82)
          w.bytes(obj.headerKeyRecv)
        }

        if ((obj.nextHeaderKeySend != null && obj.nextHeaderKeySend.byteLength > 0)) {
          w.uint32(90)
          w.bytes(obj.nextHeaderKeySend)
        }

        if ((obj.nextHeaderKeyRecv != null && obj.nextHeaderKeyRecv.byteLength > 0)) {
          w.uint32(98)
          w.bytes(obj.nextHeaderKeyRecv)
        }

        if (obj.skipped != null && obj.skipped.length > 0) {
          for (const value of obj.skipped) {
            w.uint32(106)
            SkippedChainRecord.codec().encode(value, w)
          }
        }

        if (obj.retiredHeaderKeys != null && obj.retiredHeaderKeys.length > 0) {
          for (const value of obj.retiredHeaderKeys) {
            w.uint32(114)
            w.bytes(value)
          }
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          dhSelfSecret: uint8ArrayAlloc(0),
          dhSelfPublic: uint8ArrayAlloc(0),
          rootKey: uint8ArrayAlloc(0),
          prevSendCount: 0,
          nextHeaderKeySend: uint8ArrayAlloc(0),
          nextHeaderKeyRecv: uint8ArrayAlloc(0),
          skipped: [],
          retiredHeaderKeys: []
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
              obj.dhSelfSecret = reader.bytes()
              break
            }
            case 3: {
              obj.dhSelfPublic = reader.bytes()
              break
            }
            case 4: {
              obj.dhRemote = reader.bytes()
              break
            }
            case 5: {
              obj.rootKey = reader.bytes()
              break
            }
            case 6: {
              obj.send = ChainRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.send
              })
              break
            }
            case 7: {
              obj.recv = ChainRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.recv
              })
              break
            }
            case 8: {
              obj.prevSendCount = reader.uint32()
              break
            }
            case 9: {
              obj.headerKeySend = reader.bytes()
              break
            }
            case 10: {
              obj.headerKeyRecv = reader.bytes()
              break
            }
            case 11: {
              obj.nextHeaderKeySend = reader.bytes()
              break
            }
            case 12: {
              obj.nextHeaderKeyRecv = reader.bytes()
              break
            }
            case 13: {
              if (opts.limits?.skipped != null && obj.skipped.length === opts.limits.skipped) {
                throw new MaxLengthError('Decode error - repeated field "skipped" had too many elements')
              }

              obj.skipped.push(SkippedChainRecord.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.skipped$
              }))
              break
            }
            case 14: {
              if (opts.limits?.retiredHeaderKeys != null && obj.retiredHeaderKeys.length === opts.limits.retiredHeaderKeys) {
                throw new MaxLengthError('Decode error - repeated field "retiredHeaderKeys" had too many elements')
              }

              obj.retiredHeaderKeys.push(reader.bytes())
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
        const obj = {
          skipped: 0,
          retiredHeaderKeys: 0
        }

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
                field: `${prefix}.dhSelfSecret`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.dhSelfPublic`,
                value: reader.bytes()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.dhRemote`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.rootKey`,
                value: reader.bytes()
              }
              break
            }
            case 6: {
              yield * ChainRecord.codec().stream(reader, reader.uint32(), `${prefix}.send`, {
                limits: opts.limits?.send
              })

              break
            }
            case 7: {
              yield * ChainRecord.codec().stream(reader, reader.uint32(), `${prefix}.recv`, {
                limits: opts.limits?.recv
              })

              break
            }
            case 8: {
              yield {
                field: `${prefix}.prevSendCount`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.headerKeySend`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.headerKeyRecv`,
                value: reader.bytes()
              }
              break
            }
            case 11: {
              yield {
                field: `${prefix}.nextHeaderKeySend`,
                value: reader.bytes()
              }
              break
            }
            case 12: {
              yield {
                field: `${prefix}.nextHeaderKeyRecv`,
                value: reader.bytes()
              }
              break
            }
            case 13: {
              if (opts.limits?.skipped != null && obj.skipped === opts.limits.skipped) {
                throw new MaxLengthError('Streaming decode error - repeated field "skipped" had too many elements')
              }

              for (const evt of SkippedChainRecord.codec().stream(reader, reader.uint32(), `${prefix}.skipped[]`, {
                limits: opts.limits?.skipped$
              })) {
                yield {
                  ...evt,
                  index: obj.skipped
                }
              }

              obj.skipped++

              break
            }
            case 14: {
              if (opts.limits?.retiredHeaderKeys != null && obj.retiredHeaderKeys === opts.limits.retiredHeaderKeys) {
                throw new MaxLengthError('Streaming decode error - repeated field "retiredHeaderKeys" had too many elements')
              }

              yield {
                field: `${prefix}.retiredHeaderKeys[]`,
                index: obj.retiredHeaderKeys,
                value: reader.bytes()
              }

              obj.retiredHeaderKeys++

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

  export interface RatchetStateRecordVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface RatchetStateRecordDhSelfSecretFieldEvent {
    field: '$.dhSelfSecret'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordDhSelfPublicFieldEvent {
    field: '$.dhSelfPublic'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordDhRemoteFieldEvent {
    field: '$.dhRemote'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordRootKeyFieldEvent {
    field: '$.rootKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordSendChainKeyFieldEvent {
    field: '$.send.chainKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordSendNFieldEvent {
    field: '$.send.n'
    value: number
  }

  export interface RatchetStateRecordRecvChainKeyFieldEvent {
    field: '$.recv.chainKey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordRecvNFieldEvent {
    field: '$.recv.n'
    value: number
  }

  export interface RatchetStateRecordPrevSendCountFieldEvent {
    field: '$.prevSendCount'
    value: number
  }

  export interface RatchetStateRecordHeaderKeySendFieldEvent {
    field: '$.headerKeySend'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordHeaderKeyRecvFieldEvent {
    field: '$.headerKeyRecv'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordNextHeaderKeySendFieldEvent {
    field: '$.nextHeaderKeySend'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordNextHeaderKeyRecvFieldEvent {
    field: '$.nextHeaderKeyRecv'
    value: Uint8Array<ArrayBuffer>
  }

  export interface RatchetStateRecordSkippedHeaderKeyFieldEvent {
    field: '$.skipped[].headerKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RatchetStateRecordSkippedKeysNFieldEvent {
    field: '$.skipped[].keys[].n'
    value: number
    index: number
  }

  export interface RatchetStateRecordSkippedKeysMessageKeyFieldEvent {
    field: '$.skipped[].keys[].messageKey'
    value: Uint8Array<ArrayBuffer>
    index: number
  }

  export interface RatchetStateRecordRetiredHeaderKeysFieldEvent {
    field: '$.retiredHeaderKeys[]'
    index: number
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<RatchetStateRecord>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, RatchetStateRecord.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RatchetStateRecord>): RatchetStateRecord {
    return decodeMessage(buf, RatchetStateRecord.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<RatchetStateRecord>): Generator<RatchetStateRecordVersionFieldEvent | RatchetStateRecordDhSelfSecretFieldEvent | RatchetStateRecordDhSelfPublicFieldEvent | RatchetStateRecordDhRemoteFieldEvent | RatchetStateRecordRootKeyFieldEvent | RatchetStateRecordSendChainKeyFieldEvent | RatchetStateRecordSendNFieldEvent | RatchetStateRecordRecvChainKeyFieldEvent | RatchetStateRecordRecvNFieldEvent | RatchetStateRecordPrevSendCountFieldEvent | RatchetStateRecordHeaderKeySendFieldEvent | RatchetStateRecordHeaderKeyRecvFieldEvent | RatchetStateRecordNextHeaderKeySendFieldEvent | RatchetStateRecordNextHeaderKeyRecvFieldEvent | RatchetStateRecordSkippedHeaderKeyFieldEvent | RatchetStateRecordSkippedKeysNFieldEvent | RatchetStateRecordSkippedKeysMessageKeyFieldEvent | RatchetStateRecordRetiredHeaderKeysFieldEvent> {
    return streamMessage(buf, RatchetStateRecord.codec(), opts)
  }
}
