import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

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

  constructor(message: string, offset: number, context: ErrorContext = {}) {
    super(message, context)
    this.offset = offset
  }
}

/** Whether `value` is a {@link NetworkError}, from any copy of sluice. @example if (isNetworkError(e)) retry() */
export const isNetworkError: (value: unknown) => value is NetworkError =
  guardFor<NetworkError>('NetworkError')
