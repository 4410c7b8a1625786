import { defineError } from '../errors.js'

/**
 * What the messenger refuses, with stable codes for apps and scripts:
 * - NoAccount: no identity exists yet (run init / onboarding).
 * - AccountExists: init would overwrite an existing identity.
 * - UnknownContact / AmbiguousContact: a contact reference (id or name) matches none / several.
 * - SelfContact: the card is our own.
 * - NotAccepted: the contact is a pending request; accept it first.
 * - UnknownMessage: no message with that id in the conversation.
 * - BadInput: an argument is out of bounds (empty or over-long text, bad emoji, ...).
 * - Stopped: the messenger is shutting down.
 * - IdentityChanged: a card names a contact's device or identity with other identity keys.
 */
export const MessengerError = defineError('MessengerError', [
  'NoAccount',
  'AccountExists',
  'UnknownContact',
  'AmbiguousContact',
  'SelfContact',
  'NotAccepted',
  'UnknownMessage',
  'BadInput',
  'Stopped',
  'IdentityChanged',
] as const)
export type MessengerError = InstanceType<typeof MessengerError>
