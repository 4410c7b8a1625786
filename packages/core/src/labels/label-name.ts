/**
 * A label's name (标签) as the user typed it, made one spelling: Unicode NFC, trimmed, each run of
 * spaces (ideographic ones too) one space. Case is kept as first typed; comparisons ignore it, so
 * "vip" adds to the label "VIP" instead of making a second one that looks the same in a list.
 */
import { hasUnsafeNameChars } from '../unsafe-chars.js'
import { LabelError } from './errors.js'

/** Long enough for "2025 广交会 suppliers", short enough for a chip on a phone. */
export const MAX_LABEL_CHARS = 32
/** WeChat-like use is a handful per contact; the bound keeps a contact record small. */
export const MAX_LABELS_PER_CONTACT = 50

/** The label's canonical spelling; throws LabelError EmptyLabel / BadLabel. */
export function labelName(raw: unknown): string {
  const trimmed = typeof raw === 'string' ? raw.normalize('NFC').trim() : ''
  if (trimmed === '') throw new LabelError('EmptyLabel', 'a label needs a name')
  // Checked before spaces are merged: a tab or line break inside is refused, not hidden.
  if (hasUnsafeNameChars(trimmed))
    throw new LabelError(
      'BadLabel',
      'a label cannot contain control, text-direction, zero-width or line-separator characters',
    )
  const name = trimmed.replace(/\p{Zs}+/gu, ' ')
  if ([...name].length > MAX_LABEL_CHARS)
    throw new LabelError('BadLabel', `a label is at most ${MAX_LABEL_CHARS} characters`)
  return name
}

/** What every spelling of one label shares (labels match whatever their case). */
export function labelKey(name: string): string {
  return name.toLowerCase()
}
