import { isKyError } from 'ky'
import { type ErrorContext, guardFor, isSluiceError, SluiceError } from './sluice-error.ts'

/**
 * The connection failed or was reset, before or during the body. `cause` keeps the runtime's own error
 * (`TypeError: fetch failed`, `terminated`, `network error`…).
 *
 * @example
 * catch (error) { if (isNetworkError(error)) showOfflineBanner() }
 */
export class NetworkError extends SluiceError {
  override readonly name = 'NetworkError' as const
  readonly code = 'ERR_NETWORK' as const
  /** Bytes of the body received before the failure (0 when it failed before the body). */
  readonly offset: number
  /**
   * The start of the error page the server answered a reconnect with, when its status was one worth another
   * attempt (busy, failing for now: 408, 425, 429, 5xx): its first KiB at most, decoded as text, like
   * `HTTPError.excerpt`. Absent when there was none (an empty or blank body, a connection that failed or dropped);
   * the message quotes its first 200 characters.
   *
   * @example
   * if (isNetworkError(error) && error.excerpt !== undefined) console.error(`the server said: ${error.excerpt}`)
   */
  declare readonly excerpt?: string

  constructor(message: string, offset: number, context: ErrorContext = {}) {
    super(message, context)
    this.offset = offset
  }
}

/** Whether `value` is a {@link NetworkError}, from any copy of sluice. @example if (isNetworkError(e)) retry() */
export const isNetworkError: (value: unknown) => value is NetworkError =
  guardFor<NetworkError>('NetworkError')

/**
 * What went wrong, as the runtime tells it: the error's message, then those of its causes that add something
 * (undici's `terminated` keeps `other side closed` in its `cause`, `fetch failed` the system error).
 */
export function reasonOf(error: unknown): string {
  // ky's own errors restate the request (`Request failed due to a network error: GET <url>`): the runtime's
  // reason is in their cause.
  while (isKyError(error) && !isSluiceError(error) && error.cause !== undefined) error = error.cause
  let reason = clauseOf(error)
  let cause = error
  for (let depth = 0; depth < 4; depth++) {
    cause = (cause as { cause?: unknown } | null | undefined)?.cause
    if (cause == null) break
    const more = clauseOf(cause)
    if (more !== '' && !reason.includes(more)) reason += `: ${more}`
  }
  return reason
}

/** An error's message as a clause to join into a sentence: without its final period. */
export function clauseOf(value: unknown): string {
  const message = (value as { message?: unknown } | null | undefined)?.message
  return (typeof message === 'string' ? message : String(value)).replace(/\.$/, '')
}
