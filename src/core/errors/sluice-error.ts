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
 * @example
 * try { await res.collect.text() } catch (error) { if (isSluiceError(error)) console.log(error.code) }
 */
export abstract class SluiceError extends Error {
  abstract override readonly name: string
  abstract readonly code: SluiceErrorCode
  readonly request: Request | undefined
  readonly response: Response | undefined

  constructor(message: string, context: ErrorContext = {}) {
    super(message, context.cause === undefined ? undefined : { cause: context.cause })
    this.request = context.request
    this.response = context.response
    Object.defineProperty(this, marker, { value: true })
  }
}

/**
 * Whether `value` is any sluice error, from this copy of sluice or another.
 *
 * @example
 * if (isSluiceError(error) && error.code === 'ERR_TIMEOUT') retryLater()
 */
export function isSluiceError(value: unknown): value is SluiceError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
}

/** Builds a cross-realm guard for one error class by its literal `name`. */
export function guardFor<T extends SluiceError>(name: T['name']): (value: unknown) => value is T {
  return (value: unknown): value is T => isSluiceError(value) && value.name === name
}
