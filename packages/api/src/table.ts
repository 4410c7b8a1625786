/**
 * The shape of a method table: for each method, its parameter check and what it runs on the host.
 * Tables are typed against ApiMethods, so a method cannot take or return anything else.
 */
import type { MessageView } from '@jiayi/core'
import type { ApiHost } from './host.js'
import type { MethodName, ParamsOf, ResultOf } from './methods.js'
import { type Checked, checkParams, type Shape } from './params.js'

/** The host, plus what the dispatcher adds: which files belong to Moments. */
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
}

export type MethodTable<K extends MethodName> = { readonly [M in K]: MethodSpec<M> }

/** The check for a params object of this shape. */
export function params<S extends Shape>(shape: S) {
  return (method: string, raw: Record<string, unknown> | undefined): Checked<S> =>
    checkParams(method, shape, raw)
}

export const none = params({})
