/**
 * Translations: every string a person sees comes from a catalogue (en.ts, zh-CN.ts; both must
 * have every key, a test checks), dates and numbers through Intl. The language is the one saved
 * in Settings, else the browser's first language we have.
 */
import { useEffect, useState } from 'preact/hooks'
import { en, type MessageKey } from './en.js'
import { zhCN } from './zh-CN.js'

export type { MessageKey }
export type Lang = 'en' | 'zh-CN'
export const LANGS: readonly Lang[] = ['en', 'zh-CN']
const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { en, 'zh-CN': zhCN }
const STORAGE_KEY = 'jiayi.lang'

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved === 'en' || saved === 'zh-CN') return saved
  } catch {
    // Storage may be off.
  }
  for (const l of navigator.languages ?? [navigator.language]) {
    if (/^zh\b/i.test(l)) return 'zh-CN'
    if (/^en\b/i.test(l)) return 'en'
  }
  return 'en'
}

let lang: Lang = initialLang()
const listeners = new Set<() => void>()

export function currentLang(): Lang {
  return lang
}

export function setLang(next: Lang): void {
  if (next === lang) return
  lang = next
  try {
    localStorage.setItem(STORAGE_KEY, next)
  } catch {
    // Not saved; still switched.
  }
  document.documentElement.lang = next
  for (const l of listeners) l()
}

/** Re-renders the calling component when the language changes; returns the language. */
export function useLang(): Lang {
  const [, force] = useState(0)
  useEffect(() => {
    const l = () => force((n) => n + 1)
    listeners.add(l)
    return () => listeners.delete(l)
  }, [])
  return lang
}

export type Params = Record<string, string | number>

/** The text for `key` in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, params?: Params): string {
  const text = CATALOGUES[lang][key] ?? en[key]
  if (params === undefined) return text
  return text.replace(/\{(\w+)\}/g, (m, name: string) => {
    const v = params[name]
    return v === undefined ? m : typeof v === 'number' ? formatNumber(v) : v
  })
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(lang).format(n)
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const

/** 1234567 -> "1.2 MB" / "1.2 MB" in Chinese too (Intl unit formatting). */
export function formatBytes(n: number): string {
  let value = n
  let i = 0
  while (value >= 1000 && i < UNITS.length - 1) {
    value /= 1000
    i++
  }
  return new Intl.NumberFormat(lang, {
    style: 'unit',
    unit: UNITS[i],
    unitDisplay: 'short',
    maximumFractionDigits: i === 0 ? 0 : value < 10 ? 1 : 0,
  }).format(value)
}

export function formatPercent(fraction: number): string {
  return new Intl.NumberFormat(lang, { style: 'percent', maximumFractionDigits: 0 }).format(fraction)
}

export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const m = Math.floor(s / 60)
  return `${new Intl.NumberFormat(lang).format(m)}:${String(s % 60).padStart(2, '0')}`
}

/** A message time: the clock today, the weekday this week, the date before. */
export function formatTime(iso: string, now = new Date()): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  const sameDay = d.toDateString() === now.toDateString()
  if (sameDay) return new Intl.DateTimeFormat(lang, { hour: '2-digit', minute: '2-digit' }).format(d)
  const days = (now.getTime() - d.getTime()) / 86_400_000
  if (days < 6)
    return new Intl.DateTimeFormat(lang, { weekday: 'short', hour: '2-digit', minute: '2-digit' }).format(d)
  return new Intl.DateTimeFormat(lang, { year: 'numeric', month: 'short', day: 'numeric' }).format(d)
}

export function formatDateTime(iso: string): string {
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return ''
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' }).format(d)
}

/** "3 minutes ago" for the Moments timeline. */
export function formatRelative(iso: string, now = Date.now()): string {
  const d = new Date(iso).getTime()
  if (Number.isNaN(d)) return ''
  const diff = (d - now) / 1000
  const rtf = new Intl.RelativeTimeFormat(lang, { numeric: 'auto' })
  const abs = Math.abs(diff)
  if (abs < 60) return rtf.format(Math.round(diff), 'second')
  if (abs < 3600) return rtf.format(Math.round(diff / 60), 'minute')
  if (abs < 86_400) return rtf.format(Math.round(diff / 3600), 'hour')
  if (abs < 7 * 86_400) return rtf.format(Math.round(diff / 86_400), 'day')
  return formatDateTime(iso)
}

export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(lang, { type: 'conjunction' }).format(items)
}
