import { decodeMessage, encodeMessage, enumeration, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface MsgFrame {
  envelope?: Envelope
  ack?: Ack
}

export namespace MsgFrame {
  let _codec: Codec<MsgFrame>

  export const codec = (): Codec<MsgFrame> => {
    if (_codec == null) {
      _codec = message<MsgFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.envelope != null) {
          w.uint32(10)
          Envelope.codec().encode(obj.envelope, w)
        }

        if (obj.ack != null) {
          w.uint32(18)
          Ack.codec().encode(obj.ack, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {}

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.envelope = Envelope.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.envelope
              })
              break
            }
            case 2: {
              obj.ack = Ack.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
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
              yield * Envelope.codec().stream(reader, reader.uint32(), `${prefix}.envelope`, {
                limits: opts.limits?.envelope
              })

              break
            }
            case 2: {
              yield * Ack.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

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

  export interface MsgFrameEnvelopeRefFieldEvent {
    field: '$.envelope.ref'
    value: number
  }

  export interface MsgFrameEnvelopeTypeFieldEvent {
    field: '$.envelope.type'
    value: Envelope.Type
  }

  export interface MsgFrameEnvelopeBodyFieldEvent {
    field: '$.envelope.body'
    value: Uint8Array<ArrayBuffer>
  }

  export interface MsgFrameAckRefFieldEvent {
    field: '$.ack.ref'
    value: number
  }

  export interface MsgFrameAckStatusFieldEvent {
    field: '$.ack.status'
    value: Ack.Status
  }

  export function encode (obj: Partial<MsgFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, MsgFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MsgFrame>): MsgFrame {
    return decodeMessage(buf, MsgFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<MsgFrame>): Generator<MsgFrameEnvelopeRefFieldEvent | MsgFrameEnvelopeTypeFieldEvent | MsgFrameEnvelopeBodyFieldEvent | MsgFrameAckRefFieldEvent | MsgFrameAckStatusFieldEvent> {
    return streamMessage(buf, MsgFrame.codec(), opts)
  }
}

export interface Envelope {
  ref: number
  type: Envelope.Type
  body: Uint8Array<ArrayBuffer>
}

export namespace Envelope {
  export enum Type {
    MESSAGE = 'MESSAGE',
    PREKEY = 'PREKEY'
  }

  enum __TypeValues {
    MESSAGE = 0,
    PREKEY = 1
  }

  export namespace Type {
    export const codec = (): Codec<Type> => {
      return enumeration<Type>(__TypeValues)
    }
  }

  let _codec: Codec<Envelope>

  export const codec = (): Codec<Envelope> => {
    if (_codec == null) {
      _codec = message<Envelope>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ref != null && obj.ref !== 0)) {
          w.uint32(8)
          w.uint32(obj.ref)
        }

        if (obj.type != null && __TypeValues[obj.type] !== 0) {
          w.uint32(16)
          Envelope.Type.codec().encode(obj.type, w)
        }

        if ((obj.body != null && obj.body.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.body)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ref: 0,
          type: Type.MESSAGE,
          body: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ref = reader.uint32()
              break
            }
            case 2: {
              obj.type = Envelope.Type.codec().decode(reader)
              break
            }
            case 3: {
              obj.body = reader.bytes()
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
                field: `${prefix}.ref`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.type`,
                value: Envelope.Type.codec().decode(reader)
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.body`,
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

  export interface EnvelopeRefFieldEvent {
    field: '$.ref'
    value: number
  }

  export interface EnvelopeTypeFieldEvent {
    field: '$.type'
    value: Envelope.Type
  }

  export interface EnvelopeBodyFieldEvent {
    field: '$.body'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Envelope>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Envelope.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Envelope {
    return decodeMessage(buf, Envelope.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Envelope>): Generator<EnvelopeRefFieldEvent | EnvelopeTypeFieldEvent | EnvelopeBodyFieldEvent> {
    return streamMessage(buf, Envelope.codec(), opts)
  }
}

export interface Ack {
  ref: number
  status: Ack.Status
}

export namespace Ack {
  export enum Status {
    OK = 'OK',
    REJECTED = 'REJECTED',
    RETRY = 'RETRY',
    STALE = 'STALE'
  }

  enum __StatusValues {
    OK = 0,
    REJECTED = 1,
    RETRY = 2,
    STALE = 3
  }

  export namespace Status {
    export const codec = (): Codec<Status> => {
      return enumeration<Status>(__StatusValues)
    }
  }

  let _codec: Codec<Ack>

  export const codec = (): Codec<Ack> => {
    if (_codec == null) {
      _codec = message<Ack>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.ref != null && obj.ref !== 0)) {
          w.uint32(8)
          w.uint32(obj.ref)
        }

        if (obj.status != null && __StatusValues[obj.status] !== 0) {
          w.uint32(16)
          Ack.Status.codec().encode(obj.status, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          ref: 0,
          status: Status.OK
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.ref = reader.uint32()
              break
            }
            case 2: {
              obj.status = Ack.Status.codec().decode(reader)
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
                field: `${prefix}.ref`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.status`,
                value: Ack.Status.codec().decode(reader)
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

  export interface AckRefFieldEvent {
    field: '$.ref'
    value: number
  }

  export interface AckStatusFieldEvent {
    field: '$.status'
    value: Ack.Status
  }

  export function encode (obj: Partial<Ack>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ack.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Ack {
    return decodeMessage(buf, Ack.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Generator<AckRefFieldEvent | AckStatusFieldEvent> {
    return streamMessage(buf, Ack.codec(), opts)
  }
}

export interface PrekeyRequest {
  version: number
  cardProof: Uint8Array<ArrayBuffer>
}

export namespace PrekeyRequest {
  let _codec: Codec<PrekeyRequest>

  export const codec = (): Codec<PrekeyRequest> => {
    if (_codec == null) {
      _codec = message<PrekeyRequest>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.cardProof != null && obj.cardProof.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.cardProof)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          cardProof: uint8ArrayAlloc(0)
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
              obj.cardProof = reader.bytes()
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
                field: `${prefix}.cardProof`,
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

  export interface PrekeyRequestVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface PrekeyRequestCardProofFieldEvent {
    field: '$.cardProof'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PrekeyRequest>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PrekeyRequest.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PrekeyRequest>): PrekeyRequest {
    return decodeMessage(buf, PrekeyRequest.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PrekeyRequest>): Generator<PrekeyRequestVersionFieldEvent | PrekeyRequestCardProofFieldEvent> {
    return streamMessage(buf, PrekeyRequest.codec(), opts)
  }
}

export interface PrekeyResponse {
  signedPrekeyId: number
  signedPrekey: Uint8Array<ArrayBuffer>
  signedPrekeySignature: Uint8Array<ArrayBuffer>
  oneTimePrekeyId?: number
  oneTimePrekey?: Uint8Array<ArrayBuffer>
  kemPrekeyId?: number
  kemPrekey?: Uint8Array<ArrayBuffer>
  kemPrekeySignature?: Uint8Array<ArrayBuffer>
}

export namespace PrekeyResponse {
  let _codec: Codec<PrekeyResponse>

  export const codec = (): Codec<PrekeyResponse> => {
    if (_codec == null) {
      _codec = message<PrekeyResponse>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.signedPrekeyId != null && obj.signedPrekeyId !== 0)) {
          w.uint32(24)
          w.uint32(obj.signedPrekeyId)
        }

        if ((obj.signedPrekey != null && obj.signedPrekey.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.signedPrekey)
        }

        if ((obj.signedPrekeySignature != null && obj.signedPrekeySignature.byteLength > 0)) {
          w.uint32(42)
          w.bytes(obj.signedPrekeySignature)
        }

        if (obj.oneTimePrekeyId != null) {
          w.uint32(48)
          w.uint32(obj.oneTimePrekeyId)
        }

        if (obj.oneTimePrekey != null) {
          w.uint32(58)
          w.bytes(obj.oneTimePrekey)
        }

        if (obj.kemPrekeyId != null) {
          w.uint32(64)
          w.uint32(obj.kemPrekeyId)
        }

        if (obj.kemPrekey != null) {
          w.uint32(74)
          w.bytes(obj.kemPrekey)
        }

        if (obj.kemPrekeySignature != null) {
          w.uint32(82)
          w.bytes(obj.kemPrekeySignature)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          signedPrekeyId: 0,
          signedPrekey: uint8ArrayAlloc(0),
          signedPrekeySignature: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 3: {
              obj.signedPrekeyId = reader.uint32()
              break
            }
            case 4: {
              obj.signedPrekey = reader.bytes()
              break
            }
            case 5: {
              obj.signedPrekeySignature = reader.bytes()
              break
            }
            case 6: {
              obj.oneTimePrekeyId = reader.uint32()
              break
            }
            case 7: {
              obj.oneTimePrekey = reader.bytes()
              break
            }
            case 8: {
              obj.kemPrekeyId = reader.uint32()
              break
            }
            case 9: {
              obj.kemPrekey = reader.bytes()
              break
            }
            case 10: {
              obj.kemPrekeySignature = reader.bytes()
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
            case 3: {
              yield {
                field: `${prefix}.signedPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.signedPrekey`,
                value: reader.bytes()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.signedPrekeySignature`,
                value: reader.bytes()
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
                field: `${prefix}.oneTimePrekey`,
                value: reader.bytes()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.kemPrekeyId`,
                value: reader.uint32()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.kemPrekey`,
                value: reader.bytes()
              }
              break
            }
            case 10: {
              yield {
                field: `${prefix}.kemPrekeySignature`,
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

  export interface PrekeyResponseSignedPrekeyIdFieldEvent {
    field: '$.signedPrekeyId'
    value: number
  }

  export interface PrekeyResponseSignedPrekeyFieldEvent {
    field: '$.signedPrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PrekeyResponseSignedPrekeySignatureFieldEvent {
    field: '$.signedPrekeySignature'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PrekeyResponseOneTimePrekeyIdFieldEvent {
    field: '$.oneTimePrekeyId'
    value: number
  }

  export interface PrekeyResponseOneTimePrekeyFieldEvent {
    field: '$.oneTimePrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PrekeyResponseKemPrekeyIdFieldEvent {
    field: '$.kemPrekeyId'
    value: number
  }

  export interface PrekeyResponseKemPrekeyFieldEvent {
    field: '$.kemPrekey'
    value: Uint8Array<ArrayBuffer>
  }

  export interface PrekeyResponseKemPrekeySignatureFieldEvent {
    field: '$.kemPrekeySignature'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<PrekeyResponse>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, PrekeyResponse.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PrekeyResponse>): PrekeyResponse {
    return decodeMessage(buf, PrekeyResponse.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<PrekeyResponse>): Generator<PrekeyResponseSignedPrekeyIdFieldEvent | PrekeyResponseSignedPrekeyFieldEvent | PrekeyResponseSignedPrekeySignatureFieldEvent | PrekeyResponseOneTimePrekeyIdFieldEvent | PrekeyResponseOneTimePrekeyFieldEvent | PrekeyResponseKemPrekeyIdFieldEvent | PrekeyResponseKemPrekeyFieldEvent | PrekeyResponseKemPrekeySignatureFieldEvent> {
    return streamMessage(buf, PrekeyResponse.codec(), opts)
  }
}
