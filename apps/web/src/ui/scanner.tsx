/**
 * Scans a QR code with the camera: frames from getUserMedia drawn on a canvas and decoded with
 * jsQR (loaded only when scanning starts). Calls `onCode` once with the first text decoded.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { t } from '../i18n/index.js'

export function Scanner(props: { onCode: (text: string) => void; onClose: () => void }) {
  const video = useRef<HTMLVideoElement>(null)
  const [failed, setFailed] = useState(false)
  useEffect(() => {
    let stream: MediaStream | undefined
    let stopped = false
    let frame = 0
    const run = async () => {
      try {
        const [{ default: jsQR }, media] = await Promise.all([
          import('jsqr'),
          navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false }),
        ])
        stream = media
        if (stopped) return
        const v = video.current!
        v.srcObject = media
        await v.play()
        const canvas = document.createElement('canvas')
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!
        const tick = () => {
          if (stopped) return
          if (v.videoWidth > 0) {
            canvas.width = v.videoWidth
            canvas.height = v.videoHeight
            ctx.drawImage(v, 0, 0)
            const image = ctx.getImageData(0, 0, canvas.width, canvas.height)
            const code = jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })
            if (code?.data) {
              stopped = true
              props.onCode(code.data)
              return
            }
          }
          frame = requestAnimationFrame(tick)
        }
        tick()
      } catch {
        setFailed(true)
      }
    }
    void run()
    return () => {
      stopped = true
      cancelAnimationFrame(frame)
      for (const track of stream?.getTracks() ?? []) track.stop()
    }
  }, [])
  return (
    <div class="scanner">
      {failed ? (
        <p class="hint error" role="alert">
          {t('contacts.cameraDenied')}
        </p>
      ) : (
        <>
          <p class="hint" role="status">
            {t('contacts.scanning')}
          </p>
          <video ref={video} muted playsInline aria-label={t('contacts.scanning')} />
        </>
      )}
      <button type="button" class="button" onClick={props.onClose}>
        {t('contacts.stopScan')}
      </button>
    </div>
  )
}
