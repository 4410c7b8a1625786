/**
 * A conversation: the messages (read as they are shown, so the sender's ticks turn to read),
 * the contact's presence and typing, and the composer: text (Enter sends), replies, edits,
 * files and pictures (uploaded, then offered), and voice messages recorded in the page.
 */
import type { ApiMessage, ContactView } from '@jiayi/api'
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks'
import { formatDuration, t } from '../i18n/index.js'
import { useClient, useQuery } from '../lib/client-context.js'
import { seeking, useFocusMessage } from '../lib/focus-message.js'
import { useHistory } from '../lib/history.js'
import { makeThumbnail, VoiceRecorder, waveformOf } from '../lib/media.js'
import { shownName } from '../lib/names.js'
import { previewText } from '../lib/preview.js'
import { href } from '../lib/router.js'
import { Avatar } from '../ui/avatar.js'
import { errorText } from '../ui/errors.js'
import { ForwardDialog } from '../ui/forward-dialog.js'
import { Icon } from '../ui/icons.js'
import { MessageBubble } from '../ui/message.js'
import { notifyError } from '../ui/notice.js'
import { reachTag, waitingReason } from '../ui/reach-line.js'
import { ReachNotice } from '../ui/reach-notice.js'

/** How close to an edge of the list (px) the next page is loaded. */
const EDGE_PX = 400
const TYPING_SHOWN_MS = 6_000
const TYPING_SEND_EVERY_MS = 3_000
const TYPING_IDLE_MS = 4_000

export function Conversation(props: { contact: string }) {
  const client = useClient()
  const contactQ = useQuery('contact', { contact: props.contact }, { events: ['contact'] })
  const contact = contactQ.data
  const history = useHistory(contact && contact.state !== 'pending-in' ? contact.id : undefined)
  const connection = useQuery('connection', { contact: props.contact }, { events: ['contact', 'message'] })
  const [typing, setTyping] = useState(false)
  const [menu, setMenu] = useState<string | undefined>(undefined)
  const [replyTo, setReplyTo] = useState<ApiMessage | undefined>(undefined)
  const [editing, setEditing] = useState<ApiMessage | undefined>(undefined)
  const [forwarding, setForwarding] = useState<ApiMessage | undefined>(undefined)
  const listRef = useRef<HTMLOListElement>(null)
  /** The reader is at the newest message: new ones scroll into sight. */
  const atBottom = useRef(true)
  /** A message that stays where it is on the screen while a page comes or goes around it. */
  const anchor = useRef<{ id: string; offset: number } | undefined>(undefined)

  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined
    const off = client.on('typing', (e) => {
      if (e.contactId !== contact?.id) return
      setTyping(e.active)
      if (timer !== undefined) clearTimeout(timer)
      if (e.active) timer = setTimeout(() => setTyping(false), TYPING_SHOWN_MS)
    })
    const offMsg = client.on('message', (e) => {
      if (e.contactId === contact?.id && e.change === 'new' && e.message.direction === 'in') setTyping(false)
    })
    return () => {
      off()
      offMsg()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [client, contact?.id])

  const messages = history.items
  const byId = useMemo(() => new Map(messages.map((m) => [m.id as string, m])), [messages])
  useLayoutEffect(() => {
    const el = listRef.current
    if (!el) return
    const kept = anchor.current && el.querySelector<HTMLElement>(`[data-id="${anchor.current.id}"]`)
    if (kept) el.scrollTop = kept.offsetTop - anchor.current!.offset
    else if (history.live && atBottom.current) el.scrollTop = el.scrollHeight
  }, [messages])
  useFocusMessage(listRef, messages)
  // A search hit older than the page shown: older pages until it is there (or the start).
  useEffect(() => {
    if (history.loaded && !history.atStart && seeking(byId) !== undefined)
      void history.loadOlder().catch(notifyError)
  }, [messages, history.loaded, history.atStart])

  /** Loads a page at one end, keeping the first message in sight where it is. */
  const pageIn = (load: () => Promise<void>) => {
    const el = listRef.current
    if (!el) return
    for (const child of el.children) {
      const li = child as HTMLElement
      const id = li.dataset.id
      if (id !== undefined && li.offsetTop + li.offsetHeight > el.scrollTop) {
        anchor.current = { id, offset: li.offsetTop - el.scrollTop }
        break
      }
    }
    void load()
      .catch(notifyError)
      // Once the page is drawn (Preact renders in a microtask), the anchor has done its work.
      .finally(() => setTimeout(() => (anchor.current = undefined), 0))
  }
  const onScroll = () => {
    const el = listRef.current
    if (!el) return
    const below = el.scrollHeight - el.scrollTop - el.clientHeight
    atBottom.current = below < 40
    if (el.scrollTop < EDGE_PX && !history.atStart) pageIn(history.loadOlder)
    else if (below < EDGE_PX && !history.live) pageIn(history.loadNewer)
  }

  if (contactQ.error !== undefined && contact === undefined)
    return (
      <section class="pane detail">
        <p class="hint error">{errorText(contactQ.error)}</p>
      </section>
    )
  if (contact === undefined) return <section class="pane detail" aria-busy="true" />

  const act = (run: () => Promise<unknown>) => {
    setMenu(undefined)
    run().catch(notifyError)
  }
  const presence = typing
    ? t('chat.typing')
    : connection.data
      ? `${t('chat.online')} · ${t(`route.${connection.data.route}`)}`
      : contact.online
        ? t('chat.online')
        : reachTag(contact) !== undefined
          ? `${t('chat.offline')} · ${reachTag(contact)}`
          : t('chat.offline')
  // The newest outgoing message that waits says why in a line; the others in their tick's tooltip.
  const lastWaiting = [...messages].reverse().find((m) => waitingReason(m, contact) !== undefined)?.id

  return (
    <section class="pane detail conversation" aria-labelledby="conv-title">
      <header class="pane-header">
        <a class="icon-button back" href={href({ name: 'chats' })} aria-label={t('nav.back')}>
          <Icon name="back" />
        </a>
        <Avatar name={shownName(contact)} id={contact.id} picture={contact.picture} />
        <div class="conv-title">
          <h1 id="conv-title">{shownName(contact)}</h1>
          <span class={`presence ${typing ? 'typing' : ''}`} aria-live="polite">
            {presence}
          </span>
        </div>
        <a class="icon-button" href={href({ name: 'contact', id: contact.id })} aria-label={t('chat.safety')}>
          <Icon name="shield" />
        </a>
      </header>
      {contact.state === 'pending-out' && (
        <p class="hint">{t('chat.notAccepted', { name: shownName(contact) })}</p>
      )}
      <ReachNotice contact={contact} />
      {history.error !== undefined && !history.loaded && <p class="hint error">{t('chat.loadFailed')}</p>}
      <ol
        class="messages"
        ref={listRef}
        aria-label={shownName(contact)}
        data-testid="messages"
        onScroll={onScroll}
      >
        {history.loaded && messages.length === 0 && <li class="empty">{t('chat.empty')}</li>}
        {history.loaded && messages.length > 0 && !history.atStart && (
          <li class="history-edge">
            <button type="button" class="button" onClick={() => pageIn(history.loadOlder)}>
              {t('chat.loadOlder')}
            </button>
          </li>
        )}
        {messages.map((m) =>
          m.extension?.kind === 'session-reset' ? (
            <SessionNotice key={m.id} m={m} name={shownName(contact)} />
          ) : (
            <MessageBubble
              key={m.id}
              m={m}
              quoted={m.replyTo ? byId.get(m.replyTo) : undefined}
              contactName={shownName(contact)}
              waiting={(() => {
                const text = waitingReason(m, contact)
                return text === undefined ? undefined : { text, shown: m.id === lastWaiting }
              })()}
              menuOpen={menu === m.id}
              onMenu={() => setMenu(menu === m.id ? undefined : m.id)}
              onReply={() => {
                setMenu(undefined)
                setEditing(undefined)
                setReplyTo(m)
              }}
              onReact={(emoji) =>
                act(() =>
                  client.call('react', { contact: contact.id, messageId: m.id, emoji }).then(history.reload),
                )
              }
              onEdit={() => {
                setMenu(undefined)
                setReplyTo(undefined)
                setEditing(m)
              }}
              onForward={() => {
                setMenu(undefined)
                setForwarding(m)
              }}
              onDelete={() => {
                setMenu(undefined)
                if (confirm(t('chat.deleteConfirm')))
                  act(() =>
                    client
                      .call('deleteMessage', { contact: contact.id, messageId: m.id })
                      .then(history.reload),
                  )
              }}
            />
          ),
        )}
        {!history.live && (
          <li class="history-edge">
            <button type="button" class="button" onClick={() => pageIn(history.loadNewer)}>
              {t('chat.loadNewer')}
            </button>
          </li>
        )}
      </ol>
      {forwarding !== undefined && <ForwardDialog m={forwarding} onClose={() => setForwarding(undefined)} />}
      <Composer
        key={contact.id}
        contact={contact}
        replyTo={replyTo}
        editing={editing}
        onDone={() => {
          setReplyTo(undefined)
          setEditing(undefined)
          // What was just sent shows at the end, wherever the reader was.
          atBottom.current = true
          history.toEnd()
        }}
        onCancel={() => {
          setReplyTo(undefined)
          setEditing(undefined)
        }}
      />
    </section>
  )
}

function Composer(props: {
  contact: ContactView
  replyTo: ApiMessage | undefined
  editing: ApiMessage | undefined
  onDone: () => void
  onCancel: () => void
}) {
  const client = useClient()
  const { contact, editing, replyTo } = props
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const [uploads, setUploads] = useState<string[]>([])
  const [recorder, setRecorder] = useState<VoiceRecorder | undefined>(undefined)
  const [elapsed, setElapsed] = useState(0)
  const fileInput = useRef<HTMLInputElement>(null)
  const textRef = useRef<HTMLTextAreaElement>(null)
  const typingSent = useRef(0)
  const idle = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const disabled = contact.state === 'pending-in'

  useEffect(() => {
    if (editing) setText(editing.text)
    if (editing || replyTo) textRef.current?.focus()
  }, [editing?.id, replyTo?.id])

  useEffect(() => {
    if (recorder === undefined) return
    const timer = setInterval(() => setElapsed(recorder.elapsedMs), 250)
    return () => clearInterval(timer)
  }, [recorder])

  useEffect(
    () => () => {
      if (idle.current !== undefined) clearTimeout(idle.current)
      if (typingSent.current > 0)
        void client.call('setTyping', { contact: contact.id, active: false }).catch(() => undefined)
    },
    [client, contact.id],
  )

  const stopTyping = () => {
    if (idle.current !== undefined) clearTimeout(idle.current)
    idle.current = undefined
    if (typingSent.current === 0) return
    typingSent.current = 0
    void client.call('setTyping', { contact: contact.id, active: false }).catch(() => undefined)
  }

  const onInput = (value: string) => {
    setText(value)
    if (contact.state !== 'accepted' || editing) return
    const now = Date.now()
    if (value.trim() !== '' && now - typingSent.current > TYPING_SEND_EVERY_MS) {
      typingSent.current = now
      void client.call('setTyping', { contact: contact.id, active: true }).catch(() => undefined)
    }
    if (idle.current !== undefined) clearTimeout(idle.current)
    idle.current = setTimeout(stopTyping, TYPING_IDLE_MS)
  }

  const send = async () => {
    const body = text.trim()
    if (body === '' || busy) return
    setBusy(true)
    // Cleared at once (the message can reach the other side before the call returns); put back
    // if it could not be queued, unless something new was typed meanwhile.
    setText('')
    try {
      if (editing) await client.call('edit', { contact: contact.id, messageId: editing.id, text: body })
      else
        await client.call('send', {
          contact: contact.id,
          text: body,
          ...(replyTo ? { replyTo: replyTo.id } : {}),
        })
      stopTyping()
      props.onDone()
    } catch (error) {
      setText((now) => (now === '' ? body : now))
      notifyError(error)
    } finally {
      setBusy(false)
      textRef.current?.focus()
    }
  }

  const sendFiles = async (files: FileList | null) => {
    for (const file of [...(files ?? [])]) {
      setUploads((u) => [...u, file.name])
      try {
        const mime = file.type || 'application/octet-stream'
        const image = mime.startsWith('image/')
        const thumbnail = image ? await makeThumbnail(file) : undefined
        const source = await client.upload(file, file.name)
        await client.call('sendFile', {
          contact: contact.id,
          source,
          name: file.name,
          mime,
          ...(image && thumbnail ? { kind: 'image' as const, thumbnail } : { kind: 'file' as const }),
        })
        props.onDone()
      } catch (error) {
        notifyError(error)
      } finally {
        setUploads((u) => u.filter((n, i) => n !== file.name || i !== u.indexOf(file.name)))
      }
    }
    if (fileInput.current) fileInput.current.value = ''
  }

  const startRecording = async () => {
    try {
      setElapsed(0)
      setRecorder(await VoiceRecorder.start())
    } catch {
      notifyError({ code: 'Unsupported' })
    }
  }

  const finishRecording = async () => {
    const r = recorder
    if (r === undefined) return
    setRecorder(undefined)
    setBusy(true)
    try {
      const rec = await r.stop()
      const waveform = await waveformOf(rec.blob)
      const ext = rec.mime.includes('ogg') ? 'ogg' : rec.mime.includes('mp4') ? 'm4a' : 'webm'
      const name = `voice-${new Date().toISOString().replace(/[:.]/g, '-')}.${ext}`
      const source = await client.upload(rec.blob, name)
      await client.call('sendFile', {
        contact: contact.id,
        source,
        name,
        mime: rec.mime,
        kind: 'voice',
        voice: { durationMs: Math.max(1, rec.durationMs), waveform },
      })
      props.onDone()
    } catch (error) {
      notifyError(error)
    } finally {
      setBusy(false)
    }
  }

  return (
    <div class="composer">
      {(replyTo || editing) && (
        <div class="composer-context">
          <span>
            <strong>
              {editing
                ? t('chat.editing')
                : t('chat.replyingTo', {
                    name: replyTo!.direction === 'out' ? t('chat.you') : shownName(contact),
                  })}
            </strong>{' '}
            <span class="muted">{previewText((editing ?? replyTo)!)}</span>
          </span>
          <button type="button" class="icon-button" aria-label={t('chat.cancel')} onClick={props.onCancel}>
            <Icon name="close" size={18} />
          </button>
        </div>
      )}
      {uploads.map((name, i) => (
        <div key={i} class="composer-context muted" role="status">
          {t('file.uploading', { name })}
        </div>
      ))}
      {recorder !== undefined ? (
        <div class="composer-row recording">
          <span class="rec-dot" aria-hidden="true" />
          <span role="timer" class="rec-time">
            {t('chat.recording', { time: formatDuration(elapsed) })}
          </span>
          <button
            type="button"
            class="icon-button"
            aria-label={t('chat.cancelRecording')}
            onClick={() => {
              recorder.cancel()
              setRecorder(undefined)
            }}
          >
            <Icon name="close" />
          </button>
          <button type="button" class="button primary" onClick={finishRecording}>
            <Icon name="send" size={18} /> {t('chat.stopRecording')}
          </button>
        </div>
      ) : (
        <form
          class="composer-row"
          onSubmit={(e) => {
            e.preventDefault()
            void send()
          }}
        >
          <button
            type="button"
            class="icon-button"
            aria-label={t('chat.attach')}
            title={t('chat.attach')}
            disabled={disabled || editing !== undefined}
            onClick={() => fileInput.current?.click()}
          >
            <Icon name="attach" />
          </button>
          <input
            ref={fileInput}
            type="file"
            multiple
            hidden
            tabIndex={-1}
            aria-hidden="true"
            onChange={(e) => void sendFiles((e.target as HTMLInputElement).files)}
          />
          <textarea
            ref={textRef}
            rows={1}
            aria-label={t('chat.message')}
            placeholder={t('chat.message')}
            value={text}
            disabled={disabled}
            onInput={(e) => onInput((e.target as HTMLTextAreaElement).value)}
            onKeyDown={(e) => {
              if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
                e.preventDefault()
                void send()
              } else if (e.key === 'Escape' && (editing || replyTo)) props.onCancel()
            }}
          />
          {text.trim() === '' && !editing ? (
            <button
              type="button"
              class="icon-button"
              aria-label={t('chat.record')}
              title={t('chat.record')}
              disabled={disabled || busy}
              onClick={startRecording}
            >
              <Icon name="mic" />
            </button>
          ) : null}
          <button type="submit" class="button primary send" disabled={disabled || busy || text.trim() === ''}>
            {editing ? t('chat.save') : t('chat.send')}
          </button>
        </form>
      )}
    </div>
  )
}

/** A line in the conversation, not a bubble: the secure session was replaced (session-reset.ts). */
function SessionNotice(props: { m: ApiMessage; name: string }) {
  const data = props.m.extension?.data as { resent?: unknown } | undefined
  const resent = typeof data?.resent === 'number' ? data.resent : 0
  return (
    <li class="system-notice" data-kind="session-reset" role="note">
      <Icon name="shield" size={16} />
      <span>
        {t('chat.sessionReset', { name: props.name })}
        {resent > 0 && ` ${t('chat.sessionResetResent', { count: resent })}`}
      </span>
    </li>
  )
}
