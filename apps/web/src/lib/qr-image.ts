/**
 * Reads a QR code from a picture the user picked (a saved screenshot of someone's card, WeChat's
 * "album" button): the image drawn on a canvas and decoded with jsQR, loaded only when needed.
 * Large photos are scaled down first: jsQR's time grows with the pixel count.
 */
const MAX_SIDE = 1600

export async function decodeQrImage(file: Blob): Promise<string | undefined> {
  const [{ default: jsQR }, bitmap] = await Promise.all([import('jsqr'), createImageBitmap(file)])
  try {
    const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height))
    const width = Math.max(1, Math.round(bitmap.width * scale))
    const height = Math.max(1, Math.round(bitmap.height * scale))
    const canvas = document.createElement('canvas')
    canvas.width = width
    canvas.height = height
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!
    // A transparent PNG reads as black on black: paint white under it first.
    ctx.fillStyle = '#fff'
    ctx.fillRect(0, 0, width, height)
    ctx.drawImage(bitmap, 0, 0, width, height)
    const image = ctx.getImageData(0, 0, width, height)
    return jsQR(image.data, width, height, { inversionAttempts: 'attemptBoth' })?.data || undefined
  } finally {
    bitmap.close()
  }
}
