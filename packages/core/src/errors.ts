/**
 * Typed errors with stable codes (libsignal's discipline): callers branch on `code`, never on
 * message text. Messages say what is wrong in words; they never carry key bytes or user content.
 */
export class JiayiError<C extends string = string> extends Error {
  readonly code: C

  constructor(code: C, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Builds an error class whose instances carry one of `codes`, with an `is()` guard. */
export function defineError<const C extends string>(name: string, codes: readonly C[]) {
  const known = new Set<string>(codes)
  const Cls = class extends JiayiError<C> {
    static readonly codes = codes
    static is(value: unknown, code?: C): value is InstanceType<typeof Cls> {
      return value instanceof Cls && (code === undefined || value.code === code)
    }
    constructor(code: C, message: string, options?: { cause?: unknown }) {
      if (!known.has(code)) throw new TypeError(`unknown ${name} code`)
      super(code, message, options)
      this.name = name
    }
  }
  Object.defineProperty(Cls, 'name', { value: name })
  return Cls
}

/** Thrown when a caller passes bytes of the wrong shape (length, type) into the public API. */
export const InputError = defineError('InputError', ['BadLength', 'BadType', 'OutOfRange'] as const)
export type InputError = InstanceType<typeof InputError>
