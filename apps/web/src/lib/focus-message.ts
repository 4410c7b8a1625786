/**
 * Opening a conversation at one message (a search hit): the message to show is set just before
 * the route changes; the conversation pages back until that message is on the page (`seeking`),
 * then scrolls it into the middle and highlights it for a few seconds.
 */
import type { RefObject } from 'preact'
import { useLayoutEffect } from 'preact/hooks'

let pending: string | undefined

export function focusMessageNext(messageId: string): void {
  pending = messageId
}

/** The message the conversation should bring into view, while it is not on the page yet. */
export function seeking(shown: { has(id: string): boolean }): string | undefined {
  return pending !== undefined && !shown.has(pending) ? pending : undefined
}

/** Call after the conversation's own scrolling: `shown` changes when its messages do. */
export function useFocusMessage(list: RefObject<HTMLElement | null>, shown: unknown): void {
  useLayoutEffect(() => {
    if (pending === undefined) return
    const el = list.current?.querySelector<HTMLElement>(`li[data-id="${CSS.escape(pending)}"]`)
    if (!el) return
    pending = undefined
    el.scrollIntoView({ block: 'center' })
    el.classList.add('found')
    setTimeout(() => el.classList.remove('found'), 4000)
  }, [shown])
}
