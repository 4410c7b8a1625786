/**
 * Account methods whose support depends on the host: renaming, changing the passphrase and
 * exporting an encrypted backup. A host without one answers ControlError 'Unsupported'.
 */
import type { AccountHost } from './host.js'
import { array, bool, opt, str } from './params.js'
import { ControlError } from './protocol.js'
import { always, type MethodContext, type MethodTable, none, params } from './table.js'

function op<K extends Exclude<keyof AccountHost, 'events'>>(
  c: MethodContext,
  name: K,
): NonNullable<AccountHost[K]> {
  const f = c.account?.[name]
  if (f === undefined) throw new ControlError('Unsupported', 'this peer cannot do that')
  return f.bind(c.account) as NonNullable<AccountHost[K]>
}

const secret = str({ max: 1024 })

export type AccountMethodName =
  | 'setName'
  | 'changePassphrase'
  | 'exportBackup'
  | 'publicNetwork'
  | 'setPublicNetwork'

export const ACCOUNT_METHODS: MethodTable<AccountMethodName> = {
  setName: {
    needs: 'account',
    check: params({ name: str({ min: 1, max: 256 }) }),
    run: (c, p) => op(c, 'setName')(p.name),
  },
  changePassphrase: {
    // Argon2id, twice (the old secret and the new).
    heavy: always,
    needs: 'account',
    check: params({ current: { optional: true, check: secret }, next: secret }),
    run: async (c, p) => {
      await op(c, 'changePassphrase')(p.current, p.next)
      return null
    },
  },
  exportBackup: {
    // The whole store, read and sealed.
    heavy: always,
    needs: 'account',
    check: params({ passphrase: str({ min: 8, max: 1024 }) }),
    run: (c, p) => op(c, 'exportBackup')(p.passphrase),
  },
  publicNetwork: {
    needs: 'account',
    check: none,
    run: (c) => op(c, 'publicNetwork')(),
  },
  setPublicNetwork: {
    needs: 'account',
    check: params({ publicDht: bool, bootstrap: opt(array(str({ min: 1, max: 1024 }), 64)) }),
    run: (c, p) =>
      op(
        c,
        'setPublicNetwork',
      )({
        publicDht: p.publicDht,
        ...(p.bootstrap === undefined ? {} : { bootstrap: p.bootstrap }),
      }),
  },
}
