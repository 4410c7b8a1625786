/**
 * The composer of a group conversation: text (Enter sends, Shift+Enter a new line), and files
 * and pictures by the attach button, uploaded and then offered to the group as in a 1:1 chat
 * (`sendFile` takes the group; a picture goes with its thumbnail). Core sends one sender-key
 * message for all members, who each fetch the bytes from this peer. A reply shows the 1:1
 * chat's reply bar over the row (Escape or its close button cancels it); voice is a 1:1
 * feature so far.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import type { GroupMessageView } from '../lib/groups.js'
import { makeThumbnail } from '../lib/media.js'
import { groupMessageText } from '../lib/preview.js'
import { Icon } from './icons.js'
import { notifyError } from './notice.js'

export function GroupComposer(props: {
  group: string
  disabled: boolean
  replyTo?: GroupMessageView | undefined
  onCancel?: () => void
  onSent: () => void
}) {
  const client = useClient()
  const { replyTo } = props
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const textRef = useRef<HTMLTextAreaElement>(null)
  const fileInput = useRef<HTMLInputElement>(null)
  const [uploads, setUploads] = useState<string[]>([])
  // Choosing "Reply" puts the cursor where the reply is typed.
  useEffect(() => {
    if (replyTo) textRef.current?.focus()
  }, [replyTo?.id])

  const send = async () => {
    const body = text.trim()
    if (body === '' || busy) return
    setBusy(true)
    // Cleared at once; put back if it could not be sent, unless something new was typed meanwhile.
    setText('')
    try {
      await client.call('send', {
        contact: props.group,
        text: body,
        ...(replyTo ? { replyTo: replyTo.id } : {}),
      })
      props.onSent()
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
          contact: props.group,
          source,
          name: file.name,
          mime,
          ...(image && thumbnail ? { kind: 'image' as const, thumbnail } : { kind: 'file' as const }),
        })
        props.onSent()
      } catch (error) {
        notifyError(error)
      } finally {
        setUploads((u) => u.filter((n, i) => n !== file.name || i !== u.indexOf(file.name)))
      }
    }
    if (fileInput.current) fileInput.current.value = ''
  }

  return (
    <div class="composer">
      {replyTo && (
        <div class="composer-context">
          <span>
            <strong>
              {t('chat.replyingTo', {
                name: replyTo.direction === 'out' ? t('chat.you') : replyTo.sender.name,
              })}
            </strong>{' '}
            <span class="muted">{groupMessageText(replyTo)}</span>
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
          title={t('groups.attach')}
          disabled={props.disabled}
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
          disabled={props.disabled}
          onInput={(e) => setText(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
              e.preventDefault()
              void send()
            } else if (e.key === 'Escape' && replyTo) props.onCancel?.()
          }}
        />
        <button
          type="submit"
          class="button primary send"
          disabled={props.disabled || busy || text.trim() === ''}
        >
          {t('chat.send')}
        </button>
      </form>
    </div>
  )
}
