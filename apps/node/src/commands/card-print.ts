/** The card for people: the link, then its QR code drawn in the terminal. */
import type { CardView } from '@jiayi/core'
import QRCode from 'qrcode'
import type { Output } from '../cli/context.js'
import { CliError } from '../cli/errors.js'

/**
 * A QR code drawn with block characters. On a terminal it carries colour codes (dark modules on
 * a light background, whatever the terminal's own colours); into a pipe or a file, the blocks
 * alone, since the codes would only be noise there.
 */
export async function drawQr(text: string): Promise<string> {
  const drawn = (await QRCode.toString(text, { type: 'terminal', small: true })).trimEnd()
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the escape is what is removed
  return process.stdout.isTTY ? drawn : drawn.replace(/\x1b\[[0-9;]*m/g, '')
}

export async function printCard(out: Output, card: CardView, title?: string): Promise<void> {
  if (title) out.line(title)
  out.line(card.link)
  out.line()
  out.line(await drawQr(card.qr))
  out.line()
  out.line(`${card.name} · ${card.peerId}`)
  if (card.addrs.length === 0) out.line('(no addresses: contacts will find this peer on the LAN by mDNS)')
  else for (const a of card.addrs) out.line(`  ${a}`)
}

/**
 * The LAN page's cert link (web/lan.ts) as a QR code: a phone scans it to open the app, and
 * checks the certificate its browser warns about against the fingerprint in it.
 */
export async function printCertLink(out: Output, link: string): Promise<void> {
  out.line('On a phone on this network, scan this to open Jiayi there. Its browser will warn about the')
  out.line("certificate: open the warning's details and check that the SHA-256 fingerprint is the one above.")
  out.line(await drawQr(link))
  out.line(`  ${link}`)
}

/** A PNG of the QR code (margin 4 modules, 400 px: what phone cameras read easily). */
export async function writeCardPng(file: string, card: CardView): Promise<void> {
  try {
    await QRCode.toFile(file, card.qr, { type: 'png', margin: 4, width: 400 })
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'error'
    throw new CliError('Usage', `could not write the QR code to ${file} (${reason})`)
  }
}
