/**
 * Settings: language, name, profile picture, notifications, my devices, home node, files, passphrase, an encrypted backup, and what this
 * app is.
 */
import type { PassphraseProgress } from '@jiayi/api'
import { useEffect, useState } from 'preact/hooks'
import { LANGS, type Lang, setLang, t, useLang } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { saveBlob } from '../lib/media.js'
import { DevicesCard } from '../ui/devices-card.js'
import { HomeNodeCard } from '../ui/home-node-card.js'
import { LanAccessCard } from '../ui/lan-check.js'
import { notify, notifyError } from '../ui/notice.js'
import { NotificationsCard } from '../ui/notifications-card.js'
import { PasswordField } from '../ui/password-field.js'
import { PictureCard } from '../ui/picture-card.js'
import { PublicNetworkCard } from '../ui/public-network-card.js'

const VERSION = '0.1.0'

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0))
}

export function SettingsScreen() {
  const lang = useLang()
  const client = useClient()
  const me = useQuery('whoami', {})
  const caps = useQuery('capabilities', {})
  const can = (method: string) => caps.data?.methods.includes(method) === true
  // What the user typed, kept apart from the node's answer: a field seeded from that answer in an
  // effect lost an edit begun before the answer came. Once saved (the node says the same name),
  // the field follows the node again.
  const [draft, setDraft] = useState<string | undefined>(undefined)
  const name = draft ?? me.data?.name ?? ''
  const [current, setCurrent] = useState('')
  const [next, setNext] = useState('')
  const [backupPass, setBackupPass] = useState('')
  const fileSettings = useQuery('fileSettings', {})
  // Megabytes as typed; undefined until the user edits (then the node's value no longer seeds it).
  const [askDraft, setAskDraft] = useState<string | undefined>(undefined)
  const askMb =
    askDraft ?? (fileSettings.data === undefined ? '' : String(fileSettings.data.askAboveBytes / 1_000_000))
  const askBytes = Math.round(Number(askMb) * 1_000_000)
  const askValid = askMb.trim() !== '' && Number.isFinite(askBytes) && askBytes >= 0
  const [busy, setBusy] = useState(false)
  const [rekey, setRekey] = useState<
    { phase: PassphraseProgress['phase'] | 'starting'; done: number; total: number } | undefined
  >(undefined)
  useEffect(() => {
    if (draft !== undefined && draft === me.data?.name) setDraft(undefined)
  }, [draft, me.data?.name])

  const run = async (work: () => Promise<void>) => {
    setBusy(true)
    try {
      await work()
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <section class="pane wide settings" aria-labelledby="settings-title">
      <header class="pane-header">
        <h1 id="settings-title">{t('settings.title')}</h1>
      </header>
      <div class="scroll">
        <section class="card">
          <label for="language">{t('settings.language')}</label>
          <select
            id="language"
            value={lang}
            onChange={(e) => setLang((e.target as HTMLSelectElement).value as Lang)}
          >
            {LANGS.map((l) => (
              <option key={l} value={l} lang={l}>
                {t(`lang.${l}`)}
              </option>
            ))}
          </select>
        </section>

        {can('setName') && (
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault()
              void run(async () => {
                await client.call('setName', { name: name.trim() })
                notify('settings.nameSaved')
                me.reload()
              })
            }}
          >
            <h2>{t('settings.profile')}</h2>
            <label for="name">{t('settings.name')}</label>
            <div class="field-row">
              <input
                id="name"
                type="text"
                value={name}
                maxLength={64}
                onInput={(e) => setDraft((e.target as HTMLInputElement).value)}
              />
              <button
                type="submit"
                class="button"
                disabled={busy || name.trim() === '' || name.trim() === me.data?.name}
              >
                {t('settings.saveName')}
              </button>
            </div>
          </form>
        )}

        <PictureCard />

        <NotificationsCard />

        {client.mode === 'remote' && <LanAccessCard />}

        {/* A tab's own peer cannot yet be the device others link to (nor link itself): the node's page only. */}
        {client.mode === 'remote' && can('linkDevice') && <DevicesCard />}

        {can('addHomeNode') && <HomeNodeCard />}

        {can('setPublicNetwork') && <PublicNetworkCard />}

        {can('setFileSettings') && (
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault()
              void run(async () => {
                await client.call('setFileSettings', { askAboveBytes: askBytes })
                setAskDraft(undefined)
                fileSettings.reload()
                notify('settings.filesSaved')
              })
            }}
          >
            <h2>{t('settings.files')}</h2>
            <p class="hint">{t('settings.askAboveHint')}</p>
            <label for="ask-above">{t('settings.askAbove')}</label>
            <div class="field-row">
              <input
                id="ask-above"
                type="number"
                min={0}
                step="any"
                inputMode="decimal"
                value={askMb}
                onInput={(e) => setAskDraft((e.target as HTMLInputElement).value)}
              />
              <button type="submit" class="button" disabled={busy || !askValid || askDraft === undefined}>
                {t('settings.saveFiles')}
              </button>
            </div>
          </form>
        )}

        {can('changePassphrase') && (
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault()
              void run(async () => {
                // The node re-seals every record and then deletes the old ones: it says how far.
                setRekey({ phase: 'starting', done: 0, total: 0 })
                const off = client.on('passphrase', (p) => setRekey(p))
                try {
                  await client.call('changePassphrase', { ...(current ? { current } : {}), next })
                } finally {
                  off()
                  setRekey(undefined)
                }
                setCurrent('')
                setNext('')
                notify('settings.passphraseChanged')
              })
            }}
          >
            <h2>{t('settings.security')}</h2>
            <PasswordField
              id="current-pass"
              label={t('settings.currentPassphrase')}
              autoComplete="current-password"
              value={current}
              onValue={setCurrent}
            />
            <PasswordField
              id="new-pass"
              label={t('settings.newPassphrase')}
              autoComplete="new-password"
              value={next}
              onValue={setNext}
            />
            {client.mode === 'remote' && (
              <p class="warning" data-testid="passphrase-node-hint">
                {t('settings.passphraseNodeHint')}
              </p>
            )}
            <button type="submit" class="button" disabled={busy || next.length < 8}>
              {t('settings.changePassphrase')}
            </button>
            {rekey !== undefined && (
              <p class="hint" role="status">
                {rekey.phase === 'sealing'
                  ? t('settings.passphraseSealing', { done: rekey.done, total: rekey.total })
                  : rekey.phase === 'cleaning'
                    ? t('settings.passphraseCleaning', { done: rekey.done, total: rekey.total })
                    : rekey.phase === 'done'
                      ? t('settings.passphraseChanged')
                      : t('settings.passphraseStarting')}
              </p>
            )}
          </form>
        )}

        {can('exportBackup') && (
          <form
            class="card"
            onSubmit={(e) => {
              e.preventDefault()
              void run(async () => {
                const file = await client.call('exportBackup', { passphrase: backupPass })
                saveBlob(new Blob([fromBase64(file.data)], { type: file.mime }), file.fileName)
                setBackupPass('')
                notify('settings.exported', { name: file.fileName })
              })
            }}
          >
            <h2>{t('settings.backup')}</h2>
            <p class="hint">{t('settings.backupHint')}</p>
            <PasswordField
              id="backup-pass"
              label={t('settings.backupPassphrase')}
              autoComplete="new-password"
              value={backupPass}
              onValue={setBackupPass}
            />
            <button type="submit" class="button" disabled={busy || backupPass.length < 8}>
              {t('settings.export')}
            </button>
          </form>
        )}

        <section class="card about">
          <h2>{t('settings.about')}</h2>
          <p>{t('settings.aboutText')}</p>
          <dl>
            <dt>{t('settings.mode')}</dt>
            <dd>{client.mode === 'remote' ? t('settings.mode.remote') : t('settings.mode.inPage')}</dd>
            {me.data && (
              <>
                <dt>{t('settings.name')}</dt>
                <dd>{me.data.name}</dd>
                <dt>{t('settings.peerId')}</dt>
                <dd>
                  <code>{me.data.peerId}</code>
                </dd>
                <dt>{t('settings.identity')}</dt>
                <dd>
                  <code>{me.data.identityKey}</code>
                </dd>
              </>
            )}
          </dl>
          <p class="muted small">{t('settings.version', { version: VERSION })}</p>
        </section>
      </div>
    </section>
  )
}
