/**
 * Labels (标签): the user's private groupings of contacts ("customers", "供应商"), for finding them
 * and for broadcasts (broadcast.ts). A label lives in the labelled contacts' records, as a remark
 * (备注) does: sealed by the store with the rest of the record, never sent to anyone but our own other
 * devices (messenger/sync.ts), and gone with the record when the contact is removed. A label exists while some contact has it.
 *
 * Every change runs in the contact's conversation queue and reads the record there, as every
 * other change of a contact record does, so that none overwrites another.
 */
import type { MessengerCore } from '../messenger/core.js'
import { MessengerError } from '../messenger/errors.js'
import type { ContactId } from '../messenger/ids.js'
import type { ContactRecord, ContactState } from '../messenger/records.js'
import { Tx } from '../messenger/tx.js'
import { LabelError } from './errors.js'
import { labelKey, labelName, MAX_LABELS_PER_CONTACT } from './label-name.js'

/** A contact as a label lists it. */
export interface LabelMember {
  readonly id: ContactId
  /** The name on their card. */
  readonly name: string
  /** The user's private name for them (备注), when set. */
  readonly remark?: string | undefined
  readonly state: ContactState
}

export interface LabelView {
  readonly name: string
  /** By the name the user sees (remark, else card name). */
  readonly contacts: readonly LabelMember[]
}

/** Who a broadcast to a label reaches: its accepted contacts; the others are said, not sent to. */
export interface LabelAudience {
  readonly label: string
  readonly to: readonly ContactId[]
  /** Contacts with the label that are not accepted (a request either way). */
  readonly skipped: readonly LabelMember[]
}

export class ContactLabels {
  constructor(
    private readonly core: MessengerCore,
    /** Our other devices get the contact's labels too (messenger/sync.ts). */
    private readonly changed: (cid: ContactId) => void = () => {},
  ) {}

  /** Every label in use, by name, each with its contacts. */
  list(): LabelView[] {
    const byKey = new Map<string, { name: string; members: ContactRecord[] }>()
    for (const c of this.core.contacts.all())
      for (const name of c.labels ?? []) {
        const entry = byKey.get(labelKey(name)) ?? { name, members: [] }
        entry.members.push(c)
        byKey.set(labelKey(name), entry)
      }
    return [...byKey.values()]
      .map((e) => ({ name: e.name, contacts: members(e.members) }))
      .sort((a, b) => a.name.localeCompare(b.name))
  }

  /** One label with its contacts; LabelError UnknownLabel when no contact has it. */
  label(label: string): LabelView {
    const name = this.spelling(labelName(label))
    if (name === undefined) throw unknownLabel()
    return this.view(name)
  }

  /**
   * Gives `label` to each contact of `refs` (ids, names: as everywhere). All of them are found
   * before any changes, so a typo changes nothing. A label already in use keeps its spelling.
   */
  async add(label: string, refs: readonly string[]): Promise<LabelView> {
    const typed = labelName(label)
    const contacts = this.resolveAll(refs)
    const name = this.spelling(typed) ?? typed
    const key = labelKey(name)
    const full = contacts.find((c) => !hasLabel(c, key) && (c.labels?.length ?? 0) >= MAX_LABELS_PER_CONTACT)
    if (full !== undefined)
      throw new LabelError(
        'TooManyLabels',
        `${full.name} (id ${full.id}) has ${MAX_LABELS_PER_CONTACT} labels already; remove one first`,
      )
    for (const c of contacts)
      await this.change(c.id, (labels) =>
        labels.some((l) => labelKey(l) === key) || labels.length >= MAX_LABELS_PER_CONTACT
          ? undefined
          : [...labels, name],
      )
    return this.view(name)
  }

  /** Takes `label` from each contact of `refs` (one without it is left alone). */
  async remove(label: string, refs: readonly string[]): Promise<LabelView> {
    const name = this.spelling(labelName(label))
    if (name === undefined) throw unknownLabel()
    const contacts = this.resolveAll(refs)
    for (const c of contacts) await this.take(c.id, labelKey(name))
    return this.view(name)
  }

  /** Takes `label` from every contact that has it: the label is gone. */
  async delete(label: string): Promise<void> {
    const name = this.spelling(labelName(label))
    if (name === undefined) throw unknownLabel()
    const key = labelKey(name)
    for (const c of this.core.contacts.all()) if (hasLabel(c, key)) await this.take(c.id, key)
  }

  /** Who a broadcast to `label` goes to (accepted contacts only), and who it skips. */
  audience(label: string): LabelAudience {
    const view = this.label(label)
    return {
      label: view.name,
      to: view.contacts.filter((c) => c.state === 'accepted').map((c) => c.id),
      skipped: view.contacts.filter((c) => c.state !== 'accepted'),
    }
  }

  /** The spelling in use of the label `name` names, if a contact has it. */
  private spelling(name: string): string | undefined {
    const key = labelKey(name)
    for (const c of this.core.contacts.all()) {
      const found = c.labels?.find((l) => labelKey(l) === key)
      if (found !== undefined) return found
    }
    return undefined
  }

  private view(name: string): LabelView {
    const key = labelKey(name)
    return { name, contacts: members(this.core.contacts.all().filter((c) => hasLabel(c, key))) }
  }

  private resolveAll(refs: readonly string[]): ContactRecord[] {
    if (!Array.isArray(refs) || refs.length === 0)
      throw new MessengerError('UnknownContact', 'name at least one contact to label')
    const found = new Map<ContactId, ContactRecord>()
    for (const ref of refs) {
      const c = this.core.contacts.resolve(ref)
      found.set(c.id, c)
    }
    return [...found.values()]
  }

  private take(cid: ContactId, key: string): Promise<void> {
    return this.change(cid, (labels) =>
      labels.some((l) => labelKey(l) === key) ? labels.filter((l) => labelKey(l) !== key) : undefined,
    )
  }

  /** Writes the contact's labels as `next` makes them from the current ones (undefined: as they are). */
  private async change(
    cid: ContactId,
    next: (labels: readonly string[]) => readonly string[] | undefined,
  ): Promise<void> {
    const core = this.core
    await core.queue.run(cid, async () => {
      const current = core.contacts.get(cid)
      if (current === undefined) return // removed meanwhile: nothing to label
      const labels = next(current.labels ?? [])
      if (labels === undefined) return
      const { labels: _old, ...rest } = current
      const tx = new Tx()
      core.putContact(
        tx,
        {
          ...rest,
          ...(labels.length > 0 ? { labels: [...labels].sort((a, b) => a.localeCompare(b)) } : {}),
          updatedAt: Date.now(),
        },
        'update',
      )
      tx.after(() => this.changed(cid))
      await core.commit(tx)
    })
  }
}

function hasLabel(c: ContactRecord, key: string): boolean {
  return c.labels?.some((l) => labelKey(l) === key) === true
}

function members(list: readonly ContactRecord[]): LabelMember[] {
  return list
    .map((c) => ({
      id: c.id,
      name: c.name,
      ...(c.remark !== undefined ? { remark: c.remark } : {}),
      state: c.state,
    }))
    .sort((a, b) => (a.remark ?? a.name).localeCompare(b.remark ?? b.name))
}

function unknownLabel(): LabelError {
  return new LabelError('UnknownLabel', 'no contact has that label')
}
