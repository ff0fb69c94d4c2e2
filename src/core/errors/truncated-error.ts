import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/**
 * The body's end could not be proven: it ended before its declared length or without the end marker its server
 * announced, or it ran past its declared length (`received > expected`; not resumed, since asked for again it
 * would run past again). A clean EOF from a Lambda function URL is not proof of completion.
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
