/**
 * A contact's profile picture when they sent one; else a round initial on a colour picked from
 * the contact id (stable, nothing to fetch).
 */
import { usePictureUrl } from '../lib/pictures.js'

const COLOURS = ['#07a35a', '#2f80ed', '#eb5757', '#f2994a', '#9b51e0', '#27ae60', '#56ccf2', '#bb6bd9']

export function Avatar(props: {
  name: string
  id: string
  picture?: string | undefined
  size?: 'small' | 'large'
}) {
  const url = usePictureUrl(props.id, props.picture)
  if (url !== undefined)
    return <img class={`avatar picture ${props.size ?? ''}`} src={url} alt="" aria-hidden="true" />
  const initial = [...props.name.trim()][0]?.toUpperCase() ?? '?'
  let h = 0
  for (const c of props.id) h = (h * 31 + c.charCodeAt(0)) >>> 0
  return (
    <span
      class={`avatar ${props.size ?? ''}`}
      style={{ background: COLOURS[h % COLOURS.length] }}
      aria-hidden="true"
    >
      {initial}
    </span>
  )
}
