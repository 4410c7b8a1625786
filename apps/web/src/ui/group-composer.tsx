/**
 * The composer of a group conversation: text only (Enter sends, Shift+Enter a new line). Core
 * sends one sender-key message for all members; replies, files and voice are 1:1 features so far.
 */
import { useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'
import { useClient } from '../lib/client-context.js'
import { notifyError } from './notice.js'

export function GroupComposer(props: { group: string; disabled: boolean; onSent: () => void }) {
  const client = useClient()
  const [text, setText] = useState('')
  const [busy, setBusy] = useState(false)
  const textRef = useRef<HTMLTextAreaElement>(null)

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

  return (
    <div class="composer">
      <form
        class="composer-row"
        onSubmit={(e) => {
          e.preventDefault()
          void send()
        }}
      >
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
