/**
 * Parameter checks for the method tables: small composable validators that turn an untrusted
 * JSON value into a typed one or throw ControlError 'BadParams' naming the parameter (never
 * quoting its value, which may be a user's text).
 */
import { ControlError } from './protocol.js'

/** Turns an untrusted value into T; `path` names it in errors ("text", "attachments[2].name"). */
export type Check<T> = (value: unknown, path: string) => T

const bad = (message: string): never => {
  throw new ControlError('BadParams', message)
}

/** The longest string any parameter takes (a message is at most 64 KiB; a link ~1 KiB). */
export const MAX_STRING_CHARS = 256 * 1024

export const str =
  (options: { min?: number; max?: number } = {}): Check<string> =>
  (v, path) => {
    if (typeof v !== 'string') return bad(`"${path}" must be a string`)
    const min = options.min ?? 0
    const max = options.max ?? MAX_STRING_CHARS
    if (v.length < min) return bad(`"${path}" must not be empty`)
    if (v.length > max) return bad(`"${path}" is longer than ${max} characters`)
    return v
  }

export const bool: Check<boolean> = (v, path) =>
  typeof v === 'boolean' ? v : bad(`"${path}" must be true or false`)

export const int =
  (min: number, max: number): Check<number> =>
  (v, path) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : bad(`"${path}" must be an integer from ${min} to ${max}`)

export const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v, path) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : bad(`"${path}" must be one of: ${values.join(', ')}`)

export const array =
  <T>(item: Check<T>, max: number): Check<T[]> =>
  (v, path) => {
    if (!Array.isArray(v)) return bad(`"${path}" must be a list`)
    if (v.length > max) return bad(`"${path}" has more than ${max} items`)
    return v.map((x, i) => item(x, `${path}[${i}]`))
  }

/** Marks a field optional: absent and null both mean "not given". */
export interface Optional<T> {
  readonly optional: true
  readonly check: Check<T>
}
export const opt = <T>(check: Check<T>): Optional<T> => ({ optional: true, check })

export type Shape = Record<string, Check<unknown> | Optional<unknown>>
export type Checked<S extends Shape> = {
  -readonly [K in keyof S as S[K] extends Optional<unknown> ? never : K]: S[K] extends Check<infer T>
    ? T
    : never
} & {
  -readonly [K in keyof S as S[K] extends Optional<unknown> ? K : never]?: S[K] extends Optional<infer T>
    ? T
    : never
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** An object with exactly these fields (unknown ones are refused). */
export function obj<S extends Shape>(shape: S): Check<Checked<S>> {
  return (v, path) => {
    if (!isPlainObject(v)) return bad(`"${path}" must be an object`)
    return fields(shape, v, (k) => `"${path}.${k}"`)
  }
}

function fields<S extends Shape>(
  shape: S,
  given: Record<string, unknown>,
  name: (k: string) => string,
  method?: string,
): Checked<S> {
  for (const k of Object.keys(given)) {
    if (!Object.hasOwn(shape, k))
      bad(method === undefined ? `${name(k)} is not known` : `${method} takes no parameter "${k}"`)
  }
  const out: Record<string, unknown> = {}
  for (const [k, spec] of Object.entries(shape)) {
    const v = given[k]
    const optional = typeof spec !== 'function'
    if (v === undefined || v === null) {
      if (!optional) bad(method === undefined ? `${name(k)} is missing` : `${method} needs "${k}"`)
      continue
    }
    out[k] = (optional ? spec.check : spec)(v, k)
  }
  return out as Checked<S>
}

/** A method's top-level params: unknown names refused, missing required ones named. */
export function checkParams<S extends Shape>(
  method: string,
  shape: S,
  raw: Record<string, unknown> | undefined,
): Checked<S> {
  return fields(shape, raw ?? {}, (k) => `"${k}"`, method)
}
