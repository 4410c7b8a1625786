import { decodeMessage, encodeMessage, message, streamMessage } from 'protons-runtime'
import { alloc as uint8ArrayAlloc } from 'uint8arrays/alloc'
import type { Codec, DecodeOptions } from 'protons-runtime'
import type { Uint8ArrayList } from 'uint8arraylist'

export interface FileOffer {
  version: number
  kind: number
  name: string
  mime: string
  size: bigint
  sha256: Uint8Array<ArrayBuffer>
  cipher: number
  key: Uint8Array<ArrayBuffer>
  chunkSize: number
  thumbnail?: Thumbnail
  voice?: Voice
}

export namespace FileOffer {
  let _codec: Codec<FileOffer>

  export const codec = (): Codec<FileOffer> => {
    if (_codec == null) {
      _codec = message<FileOffer>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.version != null && obj.version !== 0)) {
          w.uint32(8)
          w.uint32(obj.version)
        }

        if ((obj.kind != null && obj.kind !== 0)) {
          w.uint32(16)
          w.uint32(obj.kind)
        }

        if ((obj.name != null && obj.name !== '')) {
          w.uint32(26)
          w.string(obj.name)
        }

        if ((obj.mime != null && obj.mime !== '')) {
          w.uint32(34)
          w.string(obj.mime)
        }

        if ((obj.size != null && obj.size !== 0n)) {
          w.uint32(40)
          w.uint64(obj.size)
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(50)
          w.bytes(obj.sha256)
        }

        if ((obj.cipher != null && obj.cipher !== 0)) {
          w.uint32(56)
          w.uint32(obj.cipher)
        }

        if ((obj.key != null && obj.key.byteLength > 0)) {
          w.uint32(66)
          w.bytes(obj.key)
        }

        if ((obj.chunkSize != null && obj.chunkSize !== 0)) {
          w.uint32(72)
          w.uint32(obj.chunkSize)
        }

        if (obj.thumbnail != null) {
          w.uint32(82)
          Thumbnail.codec().encode(obj.thumbnail, w)
        }

        if (obj.voice != null) {
          w.uint32(90)
          Voice.codec().encode(obj.voice, w)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          version: 0,
          kind: 0,
          name: '',
          mime: '',
          size: 0n,
          sha256: uint8ArrayAlloc(0),
          cipher: 0,
          key: uint8ArrayAlloc(0),
          chunkSize: 0
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
              obj.kind = reader.uint32()
              break
            }
            case 3: {
              obj.name = reader.string()
              break
            }
            case 4: {
              obj.mime = reader.string()
              break
            }
            case 5: {
              obj.size = reader.uint64()
              break
            }
            case 6: {
              obj.sha256 = reader.bytes()
              break
            }
            case 7: {
              obj.cipher = reader.uint32()
              break
            }
            case 8: {
              obj.key = reader.bytes()
              break
            }
            case 9: {
              obj.chunkSize = reader.uint32()
              break
            }
            case 10: {
              obj.thumbnail = Thumbnail.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.thumbnail
              })
              break
            }
            case 11: {
              obj.voice = Voice.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.voice
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
              yield {
                field: `${prefix}.version`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.kind`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.name`,
                value: reader.string()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.mime`,
                value: reader.string()
              }
              break
            }
            case 5: {
              yield {
                field: `${prefix}.size`,
                value: reader.uint64()
              }
              break
            }
            case 6: {
              yield {
                field: `${prefix}.sha256`,
                value: reader.bytes()
              }
              break
            }
            case 7: {
              yield {
                field: `${prefix}.cipher`,
                value: reader.uint32()
              }
              break
            }
            case 8: {
              yield {
                field: `${prefix}.key`,
                value: reader.bytes()
              }
              break
            }
            case 9: {
              yield {
                field: `${prefix}.chunkSize`,
                value: reader.uint32()
              }
              break
            }
            case 10: {
              yield * Thumbnail.codec().stream(reader, reader.uint32(), `${prefix}.thumbnail`, {
                limits: opts.limits?.thumbnail
              })

              break
            }
            case 11: {
              yield * Voice.codec().stream(reader, reader.uint32(), `${prefix}.voice`, {
                limits: opts.limits?.voice
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

  export interface FileOfferVersionFieldEvent {
    field: '$.version'
    value: number
  }

  export interface FileOfferKindFieldEvent {
    field: '$.kind'
    value: number
  }

  export interface FileOfferNameFieldEvent {
    field: '$.name'
    value: string
  }

  export interface FileOfferMimeFieldEvent {
    field: '$.mime'
    value: string
  }

  export interface FileOfferSizeFieldEvent {
    field: '$.size'
    value: bigint
  }

  export interface FileOfferSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileOfferCipherFieldEvent {
    field: '$.cipher'
    value: number
  }

  export interface FileOfferKeyFieldEvent {
    field: '$.key'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileOfferChunkSizeFieldEvent {
    field: '$.chunkSize'
    value: number
  }

  export interface FileOfferThumbnailMimeFieldEvent {
    field: '$.thumbnail.mime'
    value: string
  }

  export interface FileOfferThumbnailWidthFieldEvent {
    field: '$.thumbnail.width'
    value: number
  }

  export interface FileOfferThumbnailHeightFieldEvent {
    field: '$.thumbnail.height'
    value: number
  }

  export interface FileOfferThumbnailDataFieldEvent {
    field: '$.thumbnail.data'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileOfferVoiceDurationMsFieldEvent {
    field: '$.voice.durationMs'
    value: number
  }

  export interface FileOfferVoiceWaveformFieldEvent {
    field: '$.voice.waveform'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<FileOffer>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileOffer.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileOffer>): FileOffer {
    return decodeMessage(buf, FileOffer.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileOffer>): Generator<FileOfferVersionFieldEvent | FileOfferKindFieldEvent | FileOfferNameFieldEvent | FileOfferMimeFieldEvent | FileOfferSizeFieldEvent | FileOfferSha256FieldEvent | FileOfferCipherFieldEvent | FileOfferKeyFieldEvent | FileOfferChunkSizeFieldEvent | FileOfferThumbnailMimeFieldEvent | FileOfferThumbnailWidthFieldEvent | FileOfferThumbnailHeightFieldEvent | FileOfferThumbnailDataFieldEvent | FileOfferVoiceDurationMsFieldEvent | FileOfferVoiceWaveformFieldEvent> {
    return streamMessage(buf, FileOffer.codec(), opts)
  }
}

export interface Thumbnail {
  mime: string
  width: number
  height: number
  data: Uint8Array<ArrayBuffer>
}

export namespace Thumbnail {
  let _codec: Codec<Thumbnail>

  export const codec = (): Codec<Thumbnail> => {
    if (_codec == null) {
      _codec = message<Thumbnail>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.mime != null && obj.mime !== '')) {
          w.uint32(10)
          w.string(obj.mime)
        }

        if ((obj.width != null && obj.width !== 0)) {
          w.uint32(16)
          w.uint32(obj.width)
        }

        if ((obj.height != null && obj.height !== 0)) {
          w.uint32(24)
          w.uint32(obj.height)
        }

        if ((obj.data != null && obj.data.byteLength > 0)) {
          w.uint32(34)
          w.bytes(obj.data)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          mime: '',
          width: 0,
          height: 0,
          data: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.mime = reader.string()
              break
            }
            case 2: {
              obj.width = reader.uint32()
              break
            }
            case 3: {
              obj.height = reader.uint32()
              break
            }
            case 4: {
              obj.data = reader.bytes()
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
                field: `${prefix}.mime`,
                value: reader.string()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.width`,
                value: reader.uint32()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.height`,
                value: reader.uint32()
              }
              break
            }
            case 4: {
              yield {
                field: `${prefix}.data`,
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

  export interface ThumbnailMimeFieldEvent {
    field: '$.mime'
    value: string
  }

  export interface ThumbnailWidthFieldEvent {
    field: '$.width'
    value: number
  }

  export interface ThumbnailHeightFieldEvent {
    field: '$.height'
    value: number
  }

  export interface ThumbnailDataFieldEvent {
    field: '$.data'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Thumbnail>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Thumbnail.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Thumbnail>): Thumbnail {
    return decodeMessage(buf, Thumbnail.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Thumbnail>): Generator<ThumbnailMimeFieldEvent | ThumbnailWidthFieldEvent | ThumbnailHeightFieldEvent | ThumbnailDataFieldEvent> {
    return streamMessage(buf, Thumbnail.codec(), opts)
  }
}

export interface Voice {
  durationMs: number
  waveform: Uint8Array<ArrayBuffer>
}

export namespace Voice {
  let _codec: Codec<Voice>

  export const codec = (): Codec<Voice> => {
    if (_codec == null) {
      _codec = message<Voice>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.durationMs != null && obj.durationMs !== 0)) {
          w.uint32(8)
          w.uint32(obj.durationMs)
        }

        if ((obj.waveform != null && obj.waveform.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.waveform)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          durationMs: 0,
          waveform: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.durationMs = reader.uint32()
              break
            }
            case 2: {
              obj.waveform = reader.bytes()
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
                field: `${prefix}.durationMs`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.waveform`,
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

  export interface VoiceDurationMsFieldEvent {
    field: '$.durationMs'
    value: number
  }

  export interface VoiceWaveformFieldEvent {
    field: '$.waveform'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Voice>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Voice.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Voice>): Voice {
    return decodeMessage(buf, Voice.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Voice>): Generator<VoiceDurationMsFieldEvent | VoiceWaveformFieldEvent> {
    return streamMessage(buf, Voice.codec(), opts)
  }
}

export interface FileFrame {
  have?: Have
  want?: Want
  chunk?: Chunk
  ack?: Ack
  done?: Done
  reject?: Reject
}

export namespace FileFrame {
  let _codec: Codec<FileFrame>

  export const codec = (): Codec<FileFrame> => {
    if (_codec == null) {
      _codec = message<FileFrame>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if (obj.have != null) {
          w.uint32(10)
          Have.codec().encode(obj.have, w)
        }

        if (obj.want != null) {
          w.uint32(18)
          Want.codec().encode(obj.want, w)
        }

        if (obj.chunk != null) {
          w.uint32(26)
          Chunk.codec().encode(obj.chunk, w)
        }

        if (obj.ack != null) {
          w.uint32(34)
          Ack.codec().encode(obj.ack, w)
        }

        if (obj.done != null) {
          w.uint32(42)
          Done.codec().encode(obj.done, w)
        }

        if (obj.reject != null) {
          w.uint32(50)
          Reject.codec().encode(obj.reject, w)
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
              obj.have = Have.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.have
              })
              break
            }
            case 2: {
              obj.want = Want.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.want
              })
              break
            }
            case 3: {
              obj.chunk = Chunk.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.chunk
              })
              break
            }
            case 4: {
              obj.ack = Ack.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.ack
              })
              break
            }
            case 5: {
              obj.done = Done.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.done
              })
              break
            }
            case 6: {
              obj.reject = Reject.codec().decode(reader, reader.uint32(), {
                limits: opts.limits?.reject
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
              yield * Have.codec().stream(reader, reader.uint32(), `${prefix}.have`, {
                limits: opts.limits?.have
              })

              break
            }
            case 2: {
              yield * Want.codec().stream(reader, reader.uint32(), `${prefix}.want`, {
                limits: opts.limits?.want
              })

              break
            }
            case 3: {
              yield * Chunk.codec().stream(reader, reader.uint32(), `${prefix}.chunk`, {
                limits: opts.limits?.chunk
              })

              break
            }
            case 4: {
              yield * Ack.codec().stream(reader, reader.uint32(), `${prefix}.ack`, {
                limits: opts.limits?.ack
              })

              break
            }
            case 5: {
              yield * Done.codec().stream(reader, reader.uint32(), `${prefix}.done`, {
                limits: opts.limits?.done
              })

              break
            }
            case 6: {
              yield * Reject.codec().stream(reader, reader.uint32(), `${prefix}.reject`, {
                limits: opts.limits?.reject
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

  export interface FileFrameHaveFileIdFieldEvent {
    field: '$.have.fileId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileFrameWantFileIdFieldEvent {
    field: '$.want.fileId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileFrameWantNextChunkFieldEvent {
    field: '$.want.nextChunk'
    value: number
  }

  export interface FileFrameChunkIndexFieldEvent {
    field: '$.chunk.index'
    value: number
  }

  export interface FileFrameChunkNonceFieldEvent {
    field: '$.chunk.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileFrameChunkSealedFieldEvent {
    field: '$.chunk.sealed'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileFrameAckNextChunkFieldEvent {
    field: '$.ack.nextChunk'
    value: number
  }

  export interface FileFrameDoneSha256FieldEvent {
    field: '$.done.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export interface FileFrameRejectReasonFieldEvent {
    field: '$.reject.reason'
    value: number
  }

  export function encode (obj: Partial<FileFrame>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, FileFrame.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileFrame>): FileFrame {
    return decodeMessage(buf, FileFrame.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<FileFrame>): Generator<FileFrameHaveFileIdFieldEvent | FileFrameWantFileIdFieldEvent | FileFrameWantNextChunkFieldEvent | FileFrameChunkIndexFieldEvent | FileFrameChunkNonceFieldEvent | FileFrameChunkSealedFieldEvent | FileFrameAckNextChunkFieldEvent | FileFrameDoneSha256FieldEvent | FileFrameRejectReasonFieldEvent> {
    return streamMessage(buf, FileFrame.codec(), opts)
  }
}

export interface Have {
  fileId: Uint8Array<ArrayBuffer>
}

export namespace Have {
  let _codec: Codec<Have>

  export const codec = (): Codec<Have> => {
    if (_codec == null) {
      _codec = message<Have>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.fileId != null && obj.fileId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.fileId)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          fileId: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.fileId = reader.bytes()
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
                field: `${prefix}.fileId`,
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

  export interface HaveFileIdFieldEvent {
    field: '$.fileId'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Have>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Have.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Have {
    return decodeMessage(buf, Have.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Have>): Generator<HaveFileIdFieldEvent> {
    return streamMessage(buf, Have.codec(), opts)
  }
}

export interface Want {
  fileId: Uint8Array<ArrayBuffer>
  nextChunk: number
}

export namespace Want {
  let _codec: Codec<Want>

  export const codec = (): Codec<Want> => {
    if (_codec == null) {
      _codec = message<Want>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.fileId != null && obj.fileId.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.fileId)
        }

        if ((obj.nextChunk != null && obj.nextChunk !== 0)) {
          w.uint32(16)
          w.uint32(obj.nextChunk)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          fileId: uint8ArrayAlloc(0),
          nextChunk: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.fileId = reader.bytes()
              break
            }
            case 2: {
              obj.nextChunk = reader.uint32()
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
                field: `${prefix}.fileId`,
                value: reader.bytes()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.nextChunk`,
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

  export interface WantFileIdFieldEvent {
    field: '$.fileId'
    value: Uint8Array<ArrayBuffer>
  }

  export interface WantNextChunkFieldEvent {
    field: '$.nextChunk'
    value: number
  }

  export function encode (obj: Partial<Want>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Want.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Want>): Want {
    return decodeMessage(buf, Want.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Want>): Generator<WantFileIdFieldEvent | WantNextChunkFieldEvent> {
    return streamMessage(buf, Want.codec(), opts)
  }
}

export interface Chunk {
  index: number
  nonce: Uint8Array<ArrayBuffer>
  sealed: Uint8Array<ArrayBuffer>
}

export namespace Chunk {
  let _codec: Codec<Chunk>

  export const codec = (): Codec<Chunk> => {
    if (_codec == null) {
      _codec = message<Chunk>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.index != null && obj.index !== 0)) {
          w.uint32(8)
          w.uint32(obj.index)
        }

        if ((obj.nonce != null && obj.nonce.byteLength > 0)) {
          w.uint32(18)
          w.bytes(obj.nonce)
        }

        if ((obj.sealed != null && obj.sealed.byteLength > 0)) {
          w.uint32(26)
          w.bytes(obj.sealed)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          index: 0,
          nonce: uint8ArrayAlloc(0),
          sealed: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.index = reader.uint32()
              break
            }
            case 2: {
              obj.nonce = reader.bytes()
              break
            }
            case 3: {
              obj.sealed = reader.bytes()
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
                field: `${prefix}.index`,
                value: reader.uint32()
              }
              break
            }
            case 2: {
              yield {
                field: `${prefix}.nonce`,
                value: reader.bytes()
              }
              break
            }
            case 3: {
              yield {
                field: `${prefix}.sealed`,
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

  export interface ChunkIndexFieldEvent {
    field: '$.index'
    value: number
  }

  export interface ChunkNonceFieldEvent {
    field: '$.nonce'
    value: Uint8Array<ArrayBuffer>
  }

  export interface ChunkSealedFieldEvent {
    field: '$.sealed'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Chunk>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Chunk.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Chunk>): Chunk {
    return decodeMessage(buf, Chunk.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Chunk>): Generator<ChunkIndexFieldEvent | ChunkNonceFieldEvent | ChunkSealedFieldEvent> {
    return streamMessage(buf, Chunk.codec(), opts)
  }
}

export interface Ack {
  nextChunk: number
}

export namespace Ack {
  let _codec: Codec<Ack>

  export const codec = (): Codec<Ack> => {
    if (_codec == null) {
      _codec = message<Ack>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.nextChunk != null && obj.nextChunk !== 0)) {
          w.uint32(8)
          w.uint32(obj.nextChunk)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          nextChunk: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.nextChunk = reader.uint32()
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
                field: `${prefix}.nextChunk`,
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

  export interface AckNextChunkFieldEvent {
    field: '$.nextChunk'
    value: number
  }

  export function encode (obj: Partial<Ack>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Ack.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Ack {
    return decodeMessage(buf, Ack.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Ack>): Generator<AckNextChunkFieldEvent> {
    return streamMessage(buf, Ack.codec(), opts)
  }
}

export interface Done {
  sha256: Uint8Array<ArrayBuffer>
}

export namespace Done {
  let _codec: Codec<Done>

  export const codec = (): Codec<Done> => {
    if (_codec == null) {
      _codec = message<Done>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.sha256 != null && obj.sha256.byteLength > 0)) {
          w.uint32(10)
          w.bytes(obj.sha256)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          sha256: uint8ArrayAlloc(0)
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.sha256 = reader.bytes()
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
                field: `${prefix}.sha256`,
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

  export interface DoneSha256FieldEvent {
    field: '$.sha256'
    value: Uint8Array<ArrayBuffer>
  }

  export function encode (obj: Partial<Done>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Done.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Done>): Done {
    return decodeMessage(buf, Done.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Done>): Generator<DoneSha256FieldEvent> {
    return streamMessage(buf, Done.codec(), opts)
  }
}

export interface Reject {
  reason: number
}

export namespace Reject {
  let _codec: Codec<Reject>

  export const codec = (): Codec<Reject> => {
    if (_codec == null) {
      _codec = message<Reject>((obj, w, opts = {}) => {
        if (opts.lengthDelimited !== false) {
          w.fork()
        }

        if ((obj.reason != null && obj.reason !== 0)) {
          w.uint32(8)
          w.uint32(obj.reason)
        }

        if (opts.lengthDelimited !== false) {
          w.ldelim()
        }
      }, (reader, length, opts = {}) => {
        const obj: any = {
          reason: 0
        }

        const end = length == null ? reader.len : reader.pos + length

        while (reader.pos < end) {
          const tag = reader.uint32()

          switch (tag >>> 3) {
            case 1: {
              obj.reason = reader.uint32()
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
                field: `${prefix}.reason`,
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

  export interface RejectReasonFieldEvent {
    field: '$.reason'
    value: number
  }

  export function encode (obj: Partial<Reject>): Uint8Array<ArrayBuffer> {
    return encodeMessage(obj, Reject.codec())
  }

  export function decode (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reject>): Reject {
    return decodeMessage(buf, Reject.codec(), opts)
  }

  export function stream (buf: Uint8Array | Uint8ArrayList, opts?: DecodeOptions<Reject>): Generator<RejectReasonFieldEvent> {
    return streamMessage(buf, Reject.codec(), opts)
  }
}
