/**
 * @mentions in a group message: which members a text names. A mention is "@" followed by a
 * member's name as the sender sees it (the name on their card, or the sender's remark for a
 * contact); "@all" or "@所有人" from an admin names everyone, as in WeChat. The ids travel with
 * the message, so each reader knows whether it was named whatever it calls people.
 */
import type { ContactId } from '../messenger/ids.js'
import type { GroupState } from './state.js'

/** More than any real message names; what a hostile sender can make a reader store. */
export const MAX_MENTIONS = 50
const EVERYONE = ['@all', '@所有人']

export function mentionsIn(
  text: string,
  state: GroupState,
  author: ContactId,
  namesOf: (id: ContactId, cardName: string) => readonly string[],
): ContactId[] {
  const lower = text.toLowerCase()
  const role = state.members.get(author)?.role
  if (role !== undefined && role !== 'member' && EVERYONE.some((e) => lower.includes(e))) {
    return [...state.members.keys()].filter((id) => id !== author).slice(0, MAX_MENTIONS)
  }
  const named: ContactId[] = []
  for (const m of state.members.values()) {
    if (m.id === author) continue
    const names = namesOf(m.id, m.card.name).filter((n) => n.trim() !== '')
    if (names.some((n) => lower.includes(`@${n.toLowerCase()}`))) named.push(m.id)
    if (named.length === MAX_MENTIONS) break
  }
  return named
}
