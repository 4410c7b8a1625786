/**
 * - BadLink: not a device link, or a damaged one.
 * - LinkExpired: the link is older than its expiry (5 minutes).
 * - LinkUsed: the link was used already (a link works once).
 * - LinkUnknown: the existing device made no such link (it restarted, or a new link replaced it).
 * - WrongCode: the code typed on the existing device is not the one the new device shows.
 * - LinkFailed: the other device went away or broke off in the middle; start again.
 * - LinkInterrupted: the handover's connection broke again and again, each new one carrying
 *   nothing (the way between the devices, a home node's relay, cannot carry the next part). A
 *   device that cannot be reached again at all is LinkFailed.
 * - NotLinking: nothing is being linked now (confirm without a link waiting for its code).
 * - UnknownDevice: no device with that id is on our list.
 * - ThisDevice: a device cannot remove itself (remove it from another of your devices).
 * - TooManyDevices: the list is full (MAX_DEVICES).
 * - AccountExists: the new device's home already holds an identity.
 */
import { defineError } from '../errors.js'

export const DeviceError = defineError('DeviceError', [
  'BadLink',
  'LinkExpired',
  'LinkUsed',
  'LinkUnknown',
  'WrongCode',
  'LinkFailed',
  'LinkInterrupted',
  'NotLinking',
  'UnknownDevice',
  'ThisDevice',
  'TooManyDevices',
  'AccountExists',
] as const)
export type DeviceError = InstanceType<typeof DeviceError>
export type DeviceErrorCode = (typeof DeviceError.codes)[number]

/** What a refused link says, in English and Chinese (the CLI prints it; the web app shows it). */
export const LINK_REFUSALS: Readonly<Record<string, string>> = {
  LinkExpired:
    'this device link has expired; make a new one with `jiayi devices link` (链接已过期，请重新生成)',
  LinkUsed:
    'this device link was used already; make a new one with `jiayi devices link` (链接已被使用，请重新生成)',
  LinkUnknown:
    'the other device does not know this link any more; make a new one (对方设备已不认识此链接，请重新生成)',
  WrongCode:
    'the code did not match; nothing was handed over; make a new link (验证码不一致，未转移任何数据，请重新生成链接)',
  LinkFailed: 'linking broke off; nothing was kept; start again (链接中断，未保留任何数据，请重新开始)',
  LinkInterrupted:
    'the connection to your other device broke off and could not be continued; nothing was kept; start again, on one network if you can (与另一台设备的连接中断且无法继续；未保留任何数据；请重新开始，最好在同一网络中)',
}

export function refusal(code: string): DeviceError {
  const known = (DeviceError.codes as readonly string[]).includes(code)
    ? (code as DeviceErrorCode)
    : 'LinkFailed'
  return new DeviceError(known, LINK_REFUSALS[known] ?? LINK_REFUSALS.LinkFailed!)
}
