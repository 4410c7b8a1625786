/**
 * Where a group join stands after a scanned or pasted invite: waiting for an admin's approval
 * until the group reaches this peer (core announces it with a `group` event), then joined, with
 * the way into the group; or, if the admin turns the request down (core's `group` event with
 * `change: 'refused'`), a refusal that ends the wait.
 */
import { useEffect, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { href } from '../lib/router.js'

export function GroupJoinStatus(props: { group: { id: string; name: string }; onClose: () => void }) {
  const groups = useQuery('groups', {}, { events: ['group'] })
  const joined = groups.data?.find((g) => g.id === props.group.id)
  const client = useClient()
  const [refused, setRefused] = useState(false)
  const id = props.group.id
  useEffect(
    () => client.on('group', (e) => e.groupId === id && e.change === 'refused' && setRefused(true)),
    [client, id],
  )
  return (
    <section class="card group-join" aria-labelledby="group-join-title">
      <h2 id="group-join-title">{joined?.name ?? props.group.name}</h2>
      <p
        role="status"
        data-testid="group-join-state"
        class={joined === undefined && refused ? 'hint error' : undefined}
      >
        {joined !== undefined
          ? t('groups.joined', { name: joined.name })
          : refused
            ? t('groups.joinRefused', { name: props.group.name })
            : t('groups.joinPending', { name: props.group.name })}
      </p>
      <div class="field-row">
        {joined !== undefined && (
          <a class="button primary" href={href({ name: 'group', id: joined.id })}>
            {t('groups.openGroup')}
          </a>
        )}
        <button type="button" class="button" onClick={props.onClose}>
          {t('groups.joinDismiss')}
        </button>
      </div>
    </section>
  )
}
