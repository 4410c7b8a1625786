import { defineError } from '../errors.js'

/**
 * What labels (标签) refuse, with stable codes for apps and scripts:
 * - EmptyLabel: no label name given (or only spaces).
 * - BadLabel: a label name too long, or with control, text-direction or zero-width characters.
 * - UnknownLabel: no contact has a label of that name.
 * - TooManyLabels: a contact already has as many labels as one may.
 * An unknown contact is the messenger's MessengerError UnknownContact.
 */
export const LabelError = defineError('LabelError', [
  'EmptyLabel',
  'BadLabel',
  'UnknownLabel',
  'TooManyLabels',
] as const)
export type LabelError = InstanceType<typeof LabelError>
export type LabelErrorCode = LabelError['code']
