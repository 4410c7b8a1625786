/**
 * The labels (标签) and broadcast (群发) methods. Who a broadcast reaches and how a label is
 * spelled are core's rules (@jiayi/core labels/); these check the parameters and call it.
 *
 *   labels        {}                           -> [{name, contacts: [{id, name, remark?, state}]}]
 *   addLabel      {label, contacts: [ref...]}  -> {name, contacts}
 *   removeLabel   {label, contacts: [ref...]}  -> {name, contacts} (contacts may be empty now)
 *   deleteLabel   {label}                      -> null (no contact has it any more)
 *   broadcast     {label, text}                -> {label, sent, ids, skipped}
 *   broadcastFile {label, source, name?, mime?} -> {label, sent, ids, skipped}
 */
import { broadcastFile } from '@jiayi/core'
import { sendOptions, userErrors } from './file-methods.js'
import { array, str } from './params.js'
import { ControlError } from './protocol.js'
import { always, type MethodTable, none, params } from './table.js'

/** Core says what a label may be (and names an empty one EmptyLabel): only the size is bounded here. */
const label = str({ max: 1024 })
const ref = str({ min: 1, max: 1024 })
/** More contacts than anyone labels at once. */
const MAX_CONTACTS = 10_000

export type LabelMethodName =
  | 'labels'
  | 'addLabel'
  | 'removeLabel'
  | 'deleteLabel'
  | 'broadcast'
  | 'broadcastFile'

export const LABEL_METHODS: MethodTable<LabelMethodName> = {
  labels: { check: none, run: (c) => c.messenger.labels() },
  addLabel: {
    check: params({ label, contacts: array(ref, MAX_CONTACTS) }),
    run: (c, p) => c.messenger.addLabel(p.label, p.contacts),
  },
  removeLabel: {
    check: params({ label, contacts: array(ref, MAX_CONTACTS) }),
    run: (c, p) => c.messenger.removeLabel(p.label, p.contacts),
  },
  deleteLabel: {
    check: params({ label }),
    run: async (c, p) => {
      await c.messenger.deleteLabel(p.label)
      return null
    },
  },
  broadcast: {
    check: params({ label, text: str({ min: 1 }) }),
    run: (c, p) => c.messenger.broadcast(p.label, p.text),
  },
  broadcastFile: {
    // Hashes the file once per contact.
    heavy: always,
    needs: 'files',
    check: params({
      label,
      source: str({ min: 1, max: 4096 }),
      name: { optional: true, check: str({ min: 1, max: 1024 }) },
      mime: { optional: true, check: str({ min: 1, max: 127 }) },
    }),
    run: (c, p) => {
      const files = c.files
      if (files === undefined) throw new ControlError('Unsupported', 'this peer does not transfer files')
      return userErrors(() =>
        broadcastFile(c.messenger, files.files, p.label, () => files.openSource(p.source), sendOptions(p)),
      )
    },
  },
}
