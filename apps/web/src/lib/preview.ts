/** One line for a message in the chats list and in reply quotes, in the reader's language. */

import type { ApiMessage } from '@jiayi/api'
import { t } from '../i18n/index.js'
import { groupChangeText } from './group-change.js'
import type { GroupMessageView } from './groups.js'

export interface FileData {
  readonly kind: 'file' | 'image' | 'voice'
  readonly name: string
  readonly mime: string
  readonly size: number
  readonly sha256: string
  readonly status: 'incoming' | 'sending' | 'complete' | 'failed'
  readonly bytes: number
  readonly note?: string
  /** With note 'needs-accept': why the file waits for this user. */
  readonly hold?: string
  readonly reason?: string
  readonly thumbnail?: {
    readonly mime: string
    readonly width: number
    readonly height: number
    readonly data: string
  }
  readonly voice?: { readonly durationMs: number; readonly waveform: readonly number[] }
}

/** The file a message shows (1:1 or group: both carry it as a `file-offer` extension). */
export function fileData(m: {
  readonly extension?: { readonly kind: string; readonly data?: unknown } | undefined
}): FileData | undefined {
  if (m.extension?.kind !== 'file-offer') return undefined
  const d = m.extension.data as Partial<FileData> | null
  if (d === null || typeof d !== 'object' || typeof d.name !== 'string') return undefined
  return d as FileData
}

/** The extension kind of the line core leaves when a contact's safety number changes. */
export const SAFETY_NUMBER_CHANGED = 'safety-number-changed'

export function previewText(m: ApiMessage): string {
  if (m.deleted) return t('preview.deleted')
  if (m.extension?.kind === SAFETY_NUMBER_CHANGED) return t('preview.safetyChanged')
  if (m.extension?.kind === 'session-reset') return t('preview.sessionReset')
  const f = fileData(m)
  if (f?.kind === 'image') return t('preview.image')
  if (f?.kind === 'voice') return t('preview.voice')
  if (f !== undefined) return t('preview.file', { name: f.name })
  return m.text.replace(/\s+/g, ' ').slice(0, 120)
}

/** What a group message says, in a line (a quote, the reply bar): its text, or its file's kind. */
export function groupMessageText(m: GroupMessageView): string {
  const change = groupChangeText(m)
  if (change !== undefined) return change
  const f = fileData(m)
  return f?.kind === 'image'
    ? t('preview.image')
    : f?.kind === 'voice'
      ? t('preview.voice')
      : f !== undefined
        ? t('preview.file', { name: f.name })
        : m.text.replace(/\s+/g, ' ').slice(0, 120)
}

/** A group message's line: who wrote it, then what (as WeChat's chats list says it). */
export function groupPreviewText(m: GroupMessageView): string {
  const change = groupChangeText(m)
  if (change !== undefined) return change
  const text = groupMessageText(m)
  return m.direction === 'out' ? t('chats.you', { text }) : t('chats.sender', { name: m.sender.name, text })
}
