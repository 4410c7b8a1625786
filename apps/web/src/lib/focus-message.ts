/**
 * Opening a conversation at one message (a search hit): the message to show is set just before
 * the route changes, and the conversation, once that message is on the page, scrolls it into
 * the middle and highlights it for a few seconds.
 */
import type { RefObject } from 'preact'
import { useLayoutEffect } from 'preact/hooks'

let pending: string | undefined

export function focusMessageNext(messageId: string): void {
  pending = messageId
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
