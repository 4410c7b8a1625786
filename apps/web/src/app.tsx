/**
 * The shell: starts the client, shows onboarding (in-page peer without an identity), the
 * connection state (a node's UI), and then the four sections with their navigation. Phone:
 * one pane and a tab bar at the bottom; desktop: a rail on the left and list + detail panes.
 */
import { useEffect, useState } from 'preact/hooks'
import { NoInPagePeer, pickClient } from './client/pick.js'
import type { AccountState, ClientState, JiayiClient } from './client/types.js'
import { formatNumber, t, useLang } from './i18n/index.js'
import { ClientContext, useClient, useQuery } from './lib/client-context.js'
import { useGroupsTouched } from './lib/groups.js'
import { isLanPage } from './lib/lan.js'
import { useBackgroundNotifications } from './lib/notifications.js'
import { href, type Route, takeAddLink, useRoute } from './lib/router.js'
import { ChatsScreen } from './screens/chats.js'
import { ContactScreen } from './screens/contact.js'
import { ContactsScreen } from './screens/contacts.js'
import { Conversation } from './screens/conversation.js'
import { GroupChat } from './screens/group-chat.js'
import { GroupInfoScreen } from './screens/group-info.js'
import { LabelsScreen } from './screens/labels.js'
import { MomentsScreen } from './screens/moments.js'
import { NewGroupScreen } from './screens/new-group.js'
import { Onboarding } from './screens/onboarding.js'
import { SettingsScreen } from './screens/settings.js'
import { errorText } from './ui/errors.js'
import { Icon, type IconName } from './ui/icons.js'
import { Notices } from './ui/notice.js'

type Boot =
  | { readonly phase: 'loading' }
  | { readonly phase: 'failed'; readonly error: unknown }
  | { readonly phase: 'running'; readonly client: JiayiClient }

export function App(props: { token: string | undefined }) {
  useLang()
  const [boot, setBoot] = useState<Boot>({ phase: 'loading' })
  const [addLink] = useState(() => takeAddLink())
  useEffect(() => {
    let live = true
    pickClient(props.token).then(
      (client) => live && setBoot({ phase: 'running', client }),
      (error: unknown) => live && setBoot({ phase: 'failed', error }),
    )
    return () => {
      live = false
    }
  }, [])
  if (boot.phase === 'loading') return <Splash text={t('app.loading')} />
  if (boot.phase === 'failed')
    return (
      <Splash
        text={
          boot.error instanceof NoInPagePeer
            ? t('conn.noPeer')
            : t('conn.failed', { reason: errorText(boot.error) })
        }
      />
    )
  return (
    <ClientContext.Provider value={boot.client}>
      <Running client={boot.client} addLink={addLink} />
      <Notices />
    </ClientContext.Provider>
  )
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  )
}

function Splash(props: { text: string }) {
  return (
    <main class="splash">
      <img src="/icon.svg" width={72} height={72} alt="" />
      <h1>{t('app.name')}</h1>
      <p role="status">{props.text}</p>
    </main>
  )
}

function useClientState(client: JiayiClient): ClientState {
  const [state, setState] = useState(client.state)
  useEffect(() => {
    setState(client.state)
    return client.onState(setState)
  }, [client])
  return state
}

function Running(props: { client: JiayiClient; addLink: string | undefined }) {
  const { client } = props
  const state = useClientState(client)
  const [account, setAccount] = useState<AccountState | undefined>(client.onboarding ? undefined : 'ready')
  const [separate, setSeparate] = useState(false)
  useEffect(() => {
    if (!client.onboarding) return
    client.onboarding.state().then(setAccount, () => setAccount('new'))
  }, [client])
  if (state === 'unauthorized')
    return (
      <main class="splash">
        <h1>{t('conn.unauthorized.title')}</h1>
        <p>{t('conn.unauthorized.body')}</p>
      </main>
    )
  if (account === undefined) return <Splash text={t('app.loading')} />
  // The node's own address without its token: the owner most likely lost the token, and a new
  // identity here would be a second person, not their node. (The LAN page is HTTPS: a phone's
  // own peer belongs there, whatever address the node serves it on.)
  if (account === 'new' && client.onboarding && isLoopback(location.hostname) && !isLanPage() && !separate)
    return (
      <main class="splash">
        <img src="/icon.svg" width={72} height={72} alt="" />
        <h1>{t('conn.needToken.title')}</h1>
        <p>{t('conn.needToken.body')}</p>
        <button type="button" class="button" onClick={() => setSeparate(true)}>
          {t('conn.needToken.separate')}
        </button>
      </main>
    )
  if (account !== 'ready' && client.onboarding)
    return (
      <Onboarding
        onboarding={client.onboarding}
        locked={account === 'locked'}
        onReady={() => setAccount('ready')}
      />
    )
  return (
    <>
      {state === 'connecting' && (
        <div class="banner" role="status">
          {t('conn.connecting')}
        </div>
      )}
      {state === 'closed' && (
        <div class="banner" role="status">
          {t('conn.closed')}
        </div>
      )}
      <Shell addLink={props.addLink} />
    </>
  )
}

const SECTIONS: readonly {
  route: Route
  key: 'nav.chats' | 'nav.contacts' | 'nav.moments' | 'nav.settings'
  icon: IconName
}[] = [
  { route: { name: 'chats' }, key: 'nav.chats', icon: 'chats' },
  { route: { name: 'contacts' }, key: 'nav.contacts', icon: 'contacts' },
  { route: { name: 'moments' }, key: 'nav.moments', icon: 'moments' },
  { route: { name: 'settings' }, key: 'nav.settings', icon: 'settings' },
]

function sectionOf(route: Route): Route['name'] {
  if (
    route.name === 'chat' ||
    route.name === 'group' ||
    route.name === 'group-info' ||
    route.name === 'new-group'
  )
    return 'chats'
  if (route.name === 'contact' || route.name === 'labels') return 'contacts'
  return route.name
}

/**
 * Unread messages in all accepted conversations (a request's messages wait for the Accept) and
 * in every group.
 */
function useUnreadTotal(): number {
  const chats = useQuery('chats', {}, { events: ['message', 'contact', 'read'] })
  const groups = useQuery('groups', {}, { events: ['group', 'group-message'] })
  useGroupsTouched(groups.reload)
  const direct = (chats.data ?? [])
    .filter((c) => c.contact.state !== 'pending-in')
    .reduce((n, c) => n + c.unread, 0)
  return (groups.data ?? []).reduce((n, g) => n + g.unread, direct)
}

function Shell(props: { addLink: string | undefined }) {
  const route = useRoute()
  const section = sectionOf(route)
  const detail = route.name !== sectionOf(route)
  const unread = useUnreadTotal()
  const shown = unread > 99 ? '99+' : formatNumber(unread)
  const lang = useLang()
  useBackgroundNotifications(useClient())
  // The tab's title says it too, as WeChat's does: seen from another tab or the task bar.
  useEffect(() => {
    document.title = unread > 0 ? `(${shown}) ${t('app.name')}` : t('app.name')
  }, [unread, shown, lang])
  return (
    <div class={`shell section-${section} ${detail ? 'has-detail' : ''}`}>
      <nav class="rail" aria-label={t('nav.label')}>
        {SECTIONS.map((s) => (
          <a
            key={s.key}
            href={href(s.route)}
            class="rail-item"
            aria-current={section === s.route.name ? 'page' : undefined}
          >
            <Icon name={s.icon} size={24} />
            <span>{t(s.key)}</span>
            {s.key === 'nav.chats' && unread > 0 && (
              <span class="badge rail-badge" data-testid="unread-total">
                <span aria-hidden="true">{shown}</span>
                <span class="sr-only">{t('chats.unread', { n: unread })}</span>
              </span>
            )}
          </a>
        ))}
      </nav>
      {section === 'chats' && (
        <>
          <ChatsScreen selected={'id' in route ? route.id : undefined} />
          <ChatsDetail route={route} />
        </>
      )}
      {section === 'contacts' && (
        <>
          <ContactsScreen
            addLink={props.addLink}
            selected={route.name === 'contact' ? route.id : undefined}
          />
          {route.name === 'contact' ? (
            <ContactScreen key={route.id} contact={route.id} />
          ) : route.name === 'labels' ? (
            <LabelsScreen />
          ) : (
            <EmptyDetail />
          )}
        </>
      )}
      {section === 'moments' && <MomentsScreen />}
      {section === 'settings' && <SettingsScreen />}
    </div>
  )
}

/** The chats section's detail pane: a conversation, a group, its members, or a new group. */
function ChatsDetail(props: { route: Route }) {
  const { route } = props
  if (route.name === 'chat') return <Conversation key={route.id} contact={route.id} />
  if (route.name === 'group') return <GroupChat key={route.id} group={route.id} />
  if (route.name === 'group-info') return <GroupInfoScreen key={route.id} group={route.id} />
  if (route.name === 'new-group') return <NewGroupScreen />
  return <EmptyDetail />
}

function EmptyDetail() {
  return (
    <section class="pane detail empty-detail" aria-hidden="true">
      <img src="/icon.svg" width={64} height={64} alt="" />
    </section>
  )
}
