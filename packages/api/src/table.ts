/**
 * The shape of a method table: for each method, its parameter check and what it runs on the host.
 * Tables are typed against ApiMethods, so a method cannot take or return anything else.
 */
import type { MessageView } from '@jiayi/core'
import type { ApiHost } from './host.js'
import type { MethodName, ParamsOf, ResultOf } from './methods.js'
import { type Checked, checkParams, type Shape } from './params.js'

/** The host, plus what the dispatcher adds: which files belong to Moments (the feed says). */
export interface MethodContext extends ApiHost {
  /** Moments pictures sent as files: not shown in conversations. */
  readonly moments: { isMomentFile(m: MessageView): boolean }
}

export interface MethodSpec<M extends MethodName> {
  /** Checks the raw params (throws ControlError 'BadParams'). */
  readonly check: (method: string, raw: Record<string, unknown> | undefined) => ParamsOf<M>
  readonly run: (ctx: MethodContext, params: ParamsOf<M>) => Promise<ResultOf<M>> | ResultOf<M>
  /** The host part the method needs; without it the method answers 'Unsupported'. */
  readonly needs?: 'files' | 'feed' | 'account'
  /**
   * Whether a call (by its raw params) reads or computes much: a long history, every
   * conversation, a file to hash. Heavy calls are queued per client (work.ts).
   */
  readonly heavy?: (raw: Record<string, unknown> | undefined) => boolean
}

/** Heavy whatever its params. */
export const always = (): boolean => true

/** Heavy when the `limit` asked for (or the method's default) is above `threshold`. */
export function limitAbove(threshold: number, byDefault: number) {
  return (raw: Record<string, unknown> | undefined): boolean => {
    const limit = raw?.limit
    return (typeof limit === 'number' ? limit : byDefault) > threshold
  }
}

export type MethodTable<K extends MethodName> = { readonly [M in K]: MethodSpec<M> }

/** The check for a params object of this shape. */
export function params<S extends Shape>(shape: S) {
  return (method: string, raw: Record<string, unknown> | undefined): Checked<S> =>
    checkParams(method, shape, raw)
}

export const none = params({})
