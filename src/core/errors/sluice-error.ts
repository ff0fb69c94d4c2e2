import type { HTTPError } from './http-error.ts'
import type { LimitError } from './limit-error.ts'
import type { NetworkError } from './network-error.ts'
import type { ParseError } from './parse-error.ts'
import { printable } from './printable.ts'
import type { ResumeError } from './resume-error.ts'
import type { TimeoutError } from './timeout-error.ts'
import type { TruncatedError } from './truncated-error.ts'
import type { ValidationError } from './validation-error.ts'

const marker: unique symbol = Symbol.for('sluice.error')

/** Every error code sluice raises; stable across versions, safe to switch on. */
export type SluiceErrorCode =
  | 'ERR_HTTP'
  | 'ERR_NETWORK'
  | 'ERR_TIMEOUT'
  | 'ERR_TRUNCATED'
  | 'ERR_RESUME'
  | 'ERR_PARSE'
  | 'ERR_VALIDATION'
  | 'ERR_LIMIT'

/** Where an error happened, when it is known. */
export interface ErrorContext {
  /** The request that failed, or whose response failed. */
  request?: Request | undefined
  /** The response whose body failed, when headers had arrived. */
  response?: Response | undefined
  /** The underlying error. */
  cause?: unknown
}

/**
 * Base class of every error sluice raises.
 *
 * Test with {@link isSluiceError} rather than `instanceof`: the guard works across realms and duplicated
 * package copies because it checks a `Symbol.for` marker, not the prototype chain.
 *
 * The `message` is one line of printable text: the control characters of the server's text it quotes (an error
 * page, a status text, a header) show escaped, as `\u001b`; fields such as `excerpt` keep that text as it came.
 *
 * @example
 * try { await res.collect.text() } catch (error) { if (isSluiceError(error)) console.log(error.code) }
 */
export abstract class SluiceError extends Error {
  abstract override readonly name: string
  abstract readonly code: SluiceErrorCode
  readonly request: Request | undefined
  readonly response: Response | undefined

  constructor(message: string, context: ErrorContext = {}) {
    // A message may quote the server (its error page, status text, headers): one line of printable text.
    super(printable(message), context.cause === undefined ? undefined : { cause: context.cause })
    this.request = context.request
    this.response = context.response
    Object.defineProperty(this, marker, { value: true })
  }
}

/**
 * Every error class sluice raises, as a union discriminated by `code` (and `name`): what {@link isSluiceError}
 * narrows to, so that a `switch (error.code)` narrows each case to its class and its fields.
 *
 * @example
 * function explain(error: AnySluiceError): string {
 *   switch (error.code) {
 *     case 'ERR_HTTP': return `status ${error.status}`
 *     case 'ERR_TIMEOUT': return `${error.phase} timeout`
 *     default: return error.message
 *   }
 * }
 */
export type AnySluiceError =
  | HTTPError
  | NetworkError
  | TimeoutError
  | TruncatedError
  | ResumeError
  | ParseError
  | ValidationError
  | LimitError

/**
 * Whether `value` is any sluice error, from this copy of sluice or another; narrows to {@link AnySluiceError},
 * so that switching on `code` narrows further.
 *
 * @example
 * if (isSluiceError(error)) switch (error.code) { case 'ERR_HTTP': console.log(error.status) }
 */
export function isSluiceError(value: unknown): value is AnySluiceError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
}

/** Builds a cross-realm guard for one error class by its literal `name`. */
export function guardFor<T extends SluiceError>(name: T['name']): (value: unknown) => value is T {
  return (value: unknown): value is T => isSluiceError(value) && value.name === name
}
