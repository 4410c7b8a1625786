/**
 * Opening a list at one item (a search hit): a message in its conversation, or a post in
 * Moments. The item to show is set just before the route changes; the screen pages back until
 * that item is on the page (`seeking`), then scrolls it into the middle and highlights it for a
 * few seconds.
 */
import type { RefObject } from 'preact'
import { useLayoutEffect } from 'preact/hooks'

/** A focus for the list items that carry their id in `attribute`. */
function focusTarget(attribute: string) {
  let pending: string | undefined
  return {
    next(id: string): void {
      pending = id
    },
    /** The item the screen should bring into view, while it is not on the page yet. */
    seeking(shown: { has(id: string): boolean }): string | undefined {
      return pending !== undefined && !shown.has(pending) ? pending : undefined
    },
    /** Every page is loaded and the item is not there (gone meanwhile): stop looking. */
    giveUp(): void {
      pending = undefined
    },
    /** Call after the screen's own scrolling: `shown` changes when its items do. */
    useFocus(list: RefObject<HTMLElement | null>, shown: unknown): void {
      useLayoutEffect(() => {
        if (pending === undefined) return
        const el = list.current?.querySelector<HTMLElement>(`li[${attribute}="${CSS.escape(pending)}"]`)
        if (!el) return
        pending = undefined
        el.scrollIntoView({ block: 'center' })
        el.classList.add('found')
        setTimeout(() => el.classList.remove('found'), 4000)
      }, [shown])
    },
  }
}

const messages = focusTarget('data-id')
export const focusMessageNext = messages.next
export const seeking = messages.seeking
export const useFocusMessage = messages.useFocus

/** Moments: a post, by its id (a comment's hit opens its post). */
export const focusPost = focusTarget('data-post')
