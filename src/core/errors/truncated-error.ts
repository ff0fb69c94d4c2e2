import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/**
 * The body ended before its proven end: fewer bytes than the declared length, or no end marker where the
 * server announced one. A clean EOF from a Lambda function URL is not proof of completion. Also thrown, and not
 * resumed, when a body runs past its declared length (`received > expected`): the length is wrong, or the body
 * is not the one declared, and its end cannot be proven either.
 *
 * @example
 * catch (error) { if (isTruncatedError(error)) console.log(`got ${error.received} of ${error.expected}`) }
 */
export class TruncatedError extends SluiceError {
  override readonly name = 'TruncatedError' as const
  readonly code = 'ERR_TRUNCATED' as const
  /** Bytes received. */
  readonly received: number
  /** Bytes expected, when a length was declared. */
  readonly expected: number | undefined

  constructor(message: string, received: number, expected: number | undefined, context: ErrorContext = {}) {
    super(message, context)
    this.received = received
    this.expected = expected
  }
}

/** Whether `value` is a {@link TruncatedError}, from any copy of sluice. @example if (isTruncatedError(e)) retry() */
export const isTruncatedError: (value: unknown) => value is TruncatedError =
  guardFor<TruncatedError>('TruncatedError')
