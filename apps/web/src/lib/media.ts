/**
 * Media helpers: image thumbnails (≤ 20 kB JPEG, sent inside the file offer so the picture shows
 * before the transfer ends), voice recording with MediaRecorder, and a loudness waveform.
 */

export const MAX_THUMBNAIL_BYTES = 20_000
const THUMB_SIDE = 192

function toBase64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

export interface Thumbnail {
  readonly mime: string
  readonly width: number
  readonly height: number
  readonly data: string
}

/** A small JPEG of an image, or undefined if the browser cannot decode it. */
export async function makeThumbnail(blob: Blob): Promise<Thumbnail | undefined> {
  let bitmap: ImageBitmap
  try {
    bitmap = await createImageBitmap(blob)
  } catch {
    return undefined
  }
  try {
    for (const [side, quality] of [
      [THUMB_SIDE, 0.7],
      [128, 0.6],
      [96, 0.5],
    ] as const) {
      const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height))
      const width = Math.max(1, Math.round(bitmap.width * scale))
      const height = Math.max(1, Math.round(bitmap.height * scale))
      const canvas = document.createElement('canvas')
      canvas.width = width
      canvas.height = height
      const ctx = canvas.getContext('2d')
      if (ctx === null) return undefined
      ctx.drawImage(bitmap, 0, 0, width, height)
      const out = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/jpeg', quality))
      if (out === null) return undefined
      if (out.size <= MAX_THUMBNAIL_BYTES)
        return { mime: 'image/jpeg', width, height, data: toBase64(new Uint8Array(await out.arrayBuffer())) }
    }
    return undefined
  } finally {
    bitmap.close()
  }
}

/** Up to `samples` loudness values 0..255 from recorded audio (empty if it cannot be decoded). */
export async function waveformOf(blob: Blob, samples = 64): Promise<number[]> {
  try {
    const ctx = new AudioContext()
    try {
      const audio = await ctx.decodeAudioData(await blob.arrayBuffer())
      const data = audio.getChannelData(0)
      const step = Math.max(1, Math.floor(data.length / samples))
      const peaks: number[] = []
      for (let i = 0; i < samples && i * step < data.length; i++) {
        let peak = 0
        for (let j = i * step; j < Math.min(data.length, (i + 1) * step); j++)
          peak = Math.max(peak, Math.abs(data[j]!))
        peaks.push(peak)
      }
      const max = Math.max(...peaks, 1e-6)
      return peaks.map((p) => Math.round((p / max) * 255))
    } finally {
      void ctx.close()
    }
  } catch {
    return []
  }
}

export interface Recording {
  readonly blob: Blob
  readonly durationMs: number
  readonly mime: string
}

/** Records from the microphone until `stop()`; `cancel()` discards. */
export class VoiceRecorder {
  private readonly chunks: Blob[] = []
  private readonly started = performance.now()
  private done: Promise<Recording> | undefined

  private constructor(
    private readonly stream: MediaStream,
    private readonly recorder: MediaRecorder,
  ) {
    recorder.ondataavailable = (e) => {
      if (e.data.size > 0) this.chunks.push(e.data)
    }
    recorder.start(250)
  }

  static async start(): Promise<VoiceRecorder> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true })
    const mime = ['audio/webm;codecs=opus', 'audio/webm', 'audio/ogg;codecs=opus', 'audio/mp4'].find((m) =>
      MediaRecorder.isTypeSupported(m),
    )
    const recorder = new MediaRecorder(stream, mime === undefined ? {} : { mimeType: mime })
    return new VoiceRecorder(stream, recorder)
  }

  get elapsedMs(): number {
    return performance.now() - this.started
  }

  stop(): Promise<Recording> {
    this.done ??= new Promise((resolve) => {
      const durationMs = Math.round(this.elapsedMs)
      this.recorder.onstop = () => {
        for (const track of this.stream.getTracks()) track.stop()
        const mime = (this.recorder.mimeType || 'audio/webm').split(';')[0]!
        resolve({ blob: new Blob(this.chunks, { type: mime }), durationMs, mime })
      }
      this.recorder.stop()
    })
    return this.done
  }

  cancel(): void {
    try {
      this.recorder.stop()
    } catch {
      // Already stopped.
    }
    for (const track of this.stream.getTracks()) track.stop()
  }
}

/** Saves a blob as a file with its name (as a download: never opened in this origin). */
export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(new Blob([blob], { type: 'application/octet-stream' }))
  const a = document.createElement('a')
  a.href = url
  a.download = name
  a.rel = 'noopener'
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 30_000)
}

/** Types this app shows inline from a blob: URL (pictures and sound; never HTML or SVG). */
export const INLINE_IMAGE = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp'])
export const INLINE_AUDIO = /^audio\/(webm|ogg|mpeg|mp4|wav|x-wav|aac)$/
