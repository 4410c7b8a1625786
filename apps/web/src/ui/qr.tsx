/** A QR code as an image (SVG data URL), drawn in the page from text: nothing leaves the device. */

import { useEffect, useState } from 'preact/hooks'
import QRCode from 'qrcode'

export function QrImage(props: { text: string; label: string; size?: number }) {
  const [src, setSrc] = useState<string | undefined>(undefined)
  useEffect(() => {
    let live = true
    QRCode.toString(props.text, { type: 'svg', margin: 4, errorCorrectionLevel: 'M' })
      .then((svg) => {
        if (live) setSrc(`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`)
      })
      .catch(() => setSrc(undefined))
    return () => {
      live = false
    }
  }, [props.text])
  const size = props.size ?? 240
  return src === undefined ? (
    <div
      class="qr placeholder"
      style={{ width: `${size}px`, height: `${size}px` }}
      role="img"
      aria-label={props.label}
    />
  ) : (
    <img class="qr" src={src} width={size} height={size} alt={props.label} />
  )
}
