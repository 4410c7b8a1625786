/**
 * The composer of a group conversation: text (Enter sends, Shift+Enter a new line), and files
 * and pictures by the attach button, uploaded and then offered to the group as in a 1:1 chat
 * (`sendFile` takes the group; a picture goes with its thumbnail). Core sends one sender-key
 * message for all members, who each fetch the bytes from this peer; replies and voice are 1:1
 * features so far.
 */
import { useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { makeThumbnail } from '../lib/media.js'
import { Icon } from './icons.js'
import { notifyError } from './notice.js'

export function GroupComposer(props: { group: string; disabled: boolean; onSent: () => void }) {
  const client = useClient()
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const textRef = useRef<HTMLTextAreaElement>(null)
  const fileInput = useRef<HTMLInputElement>(null)
  const [uploads, setUploads] = useState<string[]>([])

  const send = async () => {
    const body = text.trim()
    if (body === '' || busy) return
    setBusy(true)
    // Cleared at once; put back if it could not be sent, unless something new was typed meanwhile.
    setText('')
    try {
      await client.call('send', { contact: props.group, text: body })
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
            }
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
