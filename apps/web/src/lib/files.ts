/** Files for display: blob URLs of finished transfers (cached per tab), live progress, file kinds. */
import { useEffect, useState } from 'preact/hooks'
import type { JiayiClient } from '../client/types.js'
import type { MessageKey } from '../i18n/index.js'
import { useClient } from './client-context.js'

const urls = new Map<string, Promise<string>>()

/** An object URL for a transfer's bytes, typed `mime` (only for types safe to show inline). */
export function fileUrl(client: JiayiClient, id: string, mime: string): Promise<string> {
  let p = urls.get(id)
  if (p === undefined) {
    p = client.fileBlob(id).then((b) => URL.createObjectURL(new Blob([b], { type: mime })))
    p.catch(() => urls.delete(id))
    urls.set(id, p)
  }
  return p
}

export function useFileUrl(id: string | undefined, mime: string, ready: boolean): string | undefined {
  const client = useClient()
  const [url, setUrl] = useState<string | undefined>(undefined)
  useEffect(() => {
    if (!ready || id === undefined) return
    let live = true
    fileUrl(client, id, mime).then(
      (u) => live && setUrl(u),
      () => undefined,
    )
    return () => {
      live = false
    }
  }, [client, id, mime, ready])
  return url
}

/** Bytes moved per transfer, from `progress` events (the message record lags behind). */
export function useProgress(id: string): number | undefined {
  const client = useClient()
  const [bytes, setBytes] = useState<number | undefined>(undefined)
  useEffect(() => client.on('progress', (p) => p.id === id && setBytes(p.bytes)), [client, id])
  return bytes
}

export function kindKey(mime: string, name: string): MessageKey {
  const ext = name.toLowerCase().split('.').pop() ?? ''
  if (mime === 'application/pdf' || ext === 'pdf') return 'file.kind.pdf'
  if (/word|opendocument\.text|rtf/.test(mime) || ['doc', 'docx', 'odt', 'rtf', 'pages'].includes(ext))
    return 'file.kind.doc'
  if (/sheet|excel|csv/.test(mime) || ['xls', 'xlsx', 'ods', 'csv', 'numbers'].includes(ext))
    return 'file.kind.sheet'
  if (/zip|compressed|tar|gzip|7z|rar/.test(mime) || ['zip', 'gz', 'tgz', '7z', 'rar', 'tar'].includes(ext))
    return 'file.kind.archive'
  if (mime.startsWith('audio/')) return 'file.kind.audio'
  if (mime.startsWith('video/')) return 'file.kind.video'
  if (mime.startsWith('text/')) return 'file.kind.text'
  return 'file.kind.other'
}
