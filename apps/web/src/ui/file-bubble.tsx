/**
 * A file in a conversation, 1:1 or group: a picture (thumbnail first), a voice message, or a
 * document with progress. Only the message's id (the transfer's) and direction matter here.
 */
import type { ApiMessage } from '@jiayi/api'
import { useState } from 'preact/hooks'
import { formatBytes, formatDuration, formatPercent, type MessageKey, t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { kindKey, useFileUrl, useProgress } from '../lib/files.js'
import { INLINE_AUDIO, INLINE_IMAGE, saveBlob } from '../lib/media.js'
import type { FileData } from '../lib/preview.js'
import { Icon } from './icons.js'
import { notifyError } from './notice.js'

/** What a bubble needs of its message: a 1:1 message or a group's (GroupMessageView). */
type FileMessage = Pick<ApiMessage, 'id' | 'direction'>

const NOTES: Record<string, MessageKey> = {
  offline: 'file.note.offline',
  interrupted: 'file.note.interrupted',
  busy: 'file.note.busy',
  truncated: 'file.note.interrupted',
  'waiting-for-accept': 'file.waiting',
}

/** Why a file waits for this user's accept (note 'needs-accept'). */
const HOLDS: Record<string, MessageKey> = {
  large: 'file.hold.large',
  'contact-quota': 'file.hold.contact-quota',
  'total-quota': 'file.hold.total-quota',
  'disk-space': 'file.hold.disk-space',
}

function noteKey(f: FileData): MessageKey | undefined {
  if (f.note === 'needs-accept') return HOLDS[f.hold ?? 'large'] ?? 'file.hold.large'
  return f.note === undefined ? undefined : NOTES[f.note]
}

/** A button that calls one file method on the transfer, disabled while it runs. */
function useTransferCall(method: 'acceptFile' | 'cancelFile', id: string): [boolean, () => void] {
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const run = () => {
    setBusy(true)
    client
      .call(method, { id })
      .catch(notifyError)
      .finally(() => setBusy(false))
  }
  return [busy, run]
}

/** The Accept button of an incoming file that waits for the user. */
function AcceptButton(props: { m: FileMessage; f: FileData }) {
  const [busy, accept] = useTransferCall('acceptFile', props.m.id)
  if (props.m.direction !== 'in' || props.f.note !== 'needs-accept' || props.f.status !== 'incoming')
    return null
  return (
    <button
      type="button"
      class="button small accept-file"
      disabled={busy}
      onClick={accept}
      aria-label={t('file.acceptName', { name: props.f.name })}
    >
      {t('file.accept')}
    </button>
  )
}

/** Stops a transfer still on its way, in either direction (`cancelFile`, as `jiayi cancel-file`). */
function CancelButton(props: { m: FileMessage; f: FileData }) {
  const [busy, cancel] = useTransferCall('cancelFile', props.m.id)
  if (props.f.status !== 'incoming' && props.f.status !== 'sending') return null
  return (
    <button
      type="button"
      class="icon-button cancel-file"
      disabled={busy}
      onClick={cancel}
      aria-label={t('file.cancelName', { name: props.f.name })}
      title={t('file.cancel')}
    >
      <Icon name="close" size={18} />
    </button>
  )
}

export function FileBubble(props: { message: FileMessage; file: FileData }) {
  const { message: m, file: f } = props
  const live = useProgress(m.id)
  const bytes = Math.max(live ?? 0, f.bytes)
  const complete = f.status === 'complete'
  const here = complete || m.direction === 'out'
  if (f.kind === 'image' && INLINE_IMAGE.has(f.mime)) return <ImageFile m={m} f={f} ready={here} />
  if (f.kind === 'voice' && INLINE_AUDIO.test(f.mime))
    return <VoiceFile m={m} f={f} ready={here} bytes={bytes} />
  return <DocumentFile m={m} f={f} bytes={bytes} />
}

function Progress(props: { f: FileData; bytes: number }) {
  const { f, bytes } = props
  if (f.status === 'complete') return null
  if (f.status === 'failed')
    return (
      <span class="file-state error">{t(f.reason === 'cancelled' ? 'file.cancelled' : 'file.failed')}</span>
    )
  const fraction = f.size === 0 ? 1 : Math.min(1, bytes / f.size)
  return (
    <span class="file-progress">
      <span
        class="bar"
        role="progressbar"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(fraction * 100)}
        aria-valuetext={formatPercent(fraction)}
      >
        <span style={{ width: `${fraction * 100}%` }} />
      </span>
      <span class="file-state">
        {noteKey(f) !== undefined
          ? t(noteKey(f)!)
          : t('file.progress', { done: formatBytes(bytes), total: formatBytes(f.size) })}
      </span>
    </span>
  )
}

function ImageFile(props: { m: FileMessage; f: FileData; ready: boolean }) {
  const { m, f } = props
  const full = useFileUrl(m.id, f.mime, props.ready)
  const thumb = f.thumbnail ? `data:${f.thumbnail.mime};base64,${f.thumbnail.data}` : undefined
  const src = full ?? thumb
  const ratio = f.thumbnail ? f.thumbnail.height / f.thumbnail.width : 0.75
  return (
    <figure class="file image">
      {src !== undefined ? (
        <a
          href={full}
          target="_blank"
          rel="noopener noreferrer"
          aria-label={f.name}
          class={full ? '' : 'disabled'}
        >
          <img src={src} alt={f.name} width={240} height={Math.round(240 * ratio)} loading="lazy" />
        </a>
      ) : (
        <span class="image-placeholder" role="img" aria-label={f.name}>
          <Icon name="image" size={32} />
        </span>
      )}
      <Progress f={f} bytes={f.bytes} />
      <AcceptButton m={m} f={f} />
      <CancelButton m={m} f={f} />
    </figure>
  )
}

function VoiceFile(props: { m: FileMessage; f: FileData; ready: boolean; bytes: number }) {
  const { m, f } = props
  const url = useFileUrl(m.id, f.mime, props.ready)
  const wave = f.voice?.waveform ?? []
  return (
    <div class="file voice">
      <span class="voice-head">
        <Icon name="mic" size={18} />
        <span>{t('file.voice')}</span>
        <span class="muted">{formatDuration(f.voice?.durationMs ?? 0)}</span>
      </span>
      {wave.length > 0 && (
        <span class="waveform" aria-hidden="true">
          {wave.slice(0, 48).map((v, i) => (
            <span key={i} style={{ height: `${4 + (v / 255) * 20}px` }} />
          ))}
        </span>
      )}
      {url !== undefined ? (
        // biome-ignore lint/a11y/useMediaCaption: a voice message has no caption track
        <audio
          controls
          preload="metadata"
          src={url}
          aria-label={t('file.play')}
          onLoadedMetadata={(e) => revealDuration(e.currentTarget)}
        />
      ) : (
        <>
          <Progress f={f} bytes={props.bytes} />
          <AcceptButton m={m} f={f} />
          <CancelButton m={m} f={f} />
        </>
      )}
    </div>
  )
}

/**
 * Chromium's MediaRecorder writes WebM without a duration, so the player would show 0:00 until
 * played through. Seeking far past the end makes the browser find the real duration; the
 * position then goes back to the start.
 */
function revealDuration(audio: HTMLAudioElement): void {
  if (Number.isFinite(audio.duration)) return
  const back = () => {
    audio.removeEventListener('timeupdate', back)
    audio.currentTime = 0
  }
  audio.addEventListener('timeupdate', back)
  audio.currentTime = Number.MAX_SAFE_INTEGER
}

function DocumentFile(props: { m: FileMessage; f: FileData; bytes: number }) {
  const { m, f } = props
  const client = useClient()
  const [busy, setBusy] = useState(false)
  const canDownload = f.status === 'complete' || m.direction === 'out'
  const download = async () => {
    setBusy(true)
    try {
      saveBlob(await client.fileBlob(m.id), f.name)
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }
  return (
    <div class="file document">
      <span class="doc-icon" aria-hidden="true">
        <Icon name="file" size={30} />
        <span class="doc-ext">{(f.name.split('.').pop() ?? '').slice(0, 4).toUpperCase()}</span>
      </span>
      <span class="doc-main">
        <span class="doc-name">{f.name}</span>
        <span class="muted">
          {t(kindKey(f.mime, f.name))} · {formatBytes(f.size)}
        </span>
        <Progress f={f} bytes={props.bytes} />
        <AcceptButton m={m} f={f} />
      </span>
      <CancelButton m={m} f={f} />
      {canDownload && (
        <button
          type="button"
          class="icon-button"
          disabled={busy}
          onClick={download}
          aria-label={t('file.downloadName', { name: f.name })}
          title={t('file.download')}
        >
          <Icon name="download" />
        </button>
      )}
    </div>
  )
}
