/**
 * Short notices (saved, copied, an error), announced to screen readers through a live region.
 * A notice keeps what it says (a catalogue key, or the error), not the text: it follows a switch
 * of language while it is on screen.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { type MessageKey, type Params, t, useLang } from '../i18n/index.js'
import { useRoute } from '../lib/router.js'
import { errorText } from './errors.js'

interface Notice {
  readonly id: number
  readonly text: () => string
  readonly error: boolean
}

let next = 1
let notices: Notice[] = []
const listeners = new Set<(n: Notice[]) => void>()

function publish(): void {
  for (const l of listeners) l(notices)
}

export function notify(key: MessageKey, params?: Params, error = false): void {
  show(() => t(key, params), error)
}

function show(text: () => string, error: boolean): void {
  const n = { id: next++, text, error }
  notices = [...notices.slice(-2), n]
  publish()
  setTimeout(() => dismiss(n.id), error ? 8000 : 3500)
}

export function notifyError(error: unknown): void {
  console.warn(error)
  show(() => errorText(error), true)
}

function dismiss(id: number): void {
  notices = notices.filter((n) => n.id !== id)
  publish()
}

/** Clears every notice: they belong to the screen they were shown on. */
function dismissAll(): void {
  if (notices.length === 0) return
  notices = []
  publish()
}

export function Notices() {
  useLang()
  const [list, setList] = useState(notices)
  useEffect(() => {
    listeners.add(setList)
    return () => listeners.delete(setList)
  }, [])
  // A notice about one screen does not follow the user to the next.
  const route = JSON.stringify(useRoute())
  const shownOn = useRef(route)
  useEffect(() => {
    if (shownOn.current === route) return
    shownOn.current = route
    dismissAll()
  }, [route])
  return (
    <div class="notices" aria-live="polite">
      {list.map((n) => (
        <div key={n.id} class={n.error ? 'notice error' : 'notice'} role={n.error ? 'alert' : 'status'}>
          <span>{n.text()}</span>
          <button
            type="button"
            class="icon-button"
            aria-label={t('common.dismiss')}
            onClick={() => dismiss(n.id)}
          >
            ×
          </button>
        </div>
      ))}
    </div>
  )
}
