/** The group's own change lines (someone joined, left, the name changed), in this page's language. */
import { t } from '../i18n/index.js'
import type { GroupMessageView } from './groups.js'

type ChangeKey =
  | 'create'
  | 'add'
  | 'remove'
  | 'leave'
  | 'rename'
  | 'promote'
  | 'demote'
  | 'transfer'
  | 'settings'

/** A change to the group (someone joined, left, the name changed), said in this page's language. */
export function groupChangeText(m: GroupMessageView): string | undefined {
  const ext = m.extension
  if (ext?.kind !== 'group-change') return undefined
  const data = ext.data
  const known: readonly string[] = [
    'create',
    'add',
    'remove',
    'leave',
    'rename',
    'promote',
    'demote',
    'transfer',
    'settings',
  ]
  if (!known.includes(data.change)) return m.text
  return t(`groups.change.${data.change as ChangeKey}`, {
    by: data.by.name,
    them: data.members.map((x) => x.name).join(t('groups.listSep')),
    name: data.name ?? '',
  })
}
