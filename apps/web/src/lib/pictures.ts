/**
 * Profile pictures in the page: a contact's picture fetched once per picture (its hash names it)
 * and kept as an object URL for every avatar that shows it; and a picked photo made small
 * (a square JPEG of PICTURE_SIDE px) before it is set, since each contact gets a copy.
 */
import { useEffect, useState } from 'preact/hooks'
import type { JiayiClient } from '../client/types.js'
import { useClient } from './client-context.js'

const PICTURE_SIDE = 256
const urls = new Map<string, Promise<string | undefined>>()

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

function toBase64(bytes: Uint8Array): string {
  let text = ''
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(text)
}

function pictureUrl(client: JiayiClient, contact: string, hash: string): Promise<string | undefined> {
  let url = urls.get(hash)
  if (url === undefined) {
    url = client
      .call('contactPicture', { contact })
      .then((p) =>
        p === null ? undefined : URL.createObjectURL(new Blob([fromBase64(p.data)], { type: p.mime })),
      )
      .catch(() => {
        urls.delete(hash) // tried again the next time an avatar asks
        return undefined
      })
    urls.set(hash, url)
  }
  return url
}

/** The object URL of a contact's picture named `hash`, once loaded; undefined without one. */
export function usePictureUrl(contact: string, hash: string | undefined): string | undefined {
  const client = useClient()
  const [url, setUrl] = useState<string | undefined>(undefined)
  useEffect(() => {
    let live = true
    setUrl(undefined)
    if (hash !== undefined) void pictureUrl(client, contact, hash).then((u) => live && setUrl(u))
    return () => {
      live = false
    }
  }, [client, contact, hash])
  return url
}

/** A picked image as a centred square JPEG of PICTURE_SIDE px, base64, ready for setProfilePicture. */
export async function squarePicture(file: Blob): Promise<{ mime: 'image/jpeg'; data: string }> {
  const bitmap = await createImageBitmap(file)
  try {
    const side = Math.min(bitmap.width, bitmap.height)
    const canvas = document.createElement('canvas')
    canvas.width = PICTURE_SIDE
    canvas.height = PICTURE_SIDE
    const ctx = canvas.getContext('2d')!
    ctx.fillStyle = '#fff'
    ctx.fillRect(0, 0, PICTURE_SIDE, PICTURE_SIDE)
    ctx.drawImage(
      bitmap,
      (bitmap.width - side) / 2,
      (bitmap.height - side) / 2,
      side,
      side,
      0,
      0,
      PICTURE_SIDE,
      PICTURE_SIDE,
    )
    const blob = await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('no JPEG encoder'))), 'image/jpeg', 0.85),
    )
    return { mime: 'image/jpeg', data: toBase64(new Uint8Array(await blob.arrayBuffer())) }
  } finally {
    bitmap.close()
  }
}

/** Our own picture as a data URL, for Settings. */
export function pictureDataUrl(p: { mime: string; data: string }): string {
  return `data:${p.mime};base64,${p.data}`
}
