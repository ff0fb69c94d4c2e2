import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/** Why a stream could not be resumed. */
export type ResumeReason =
  | 'unsupported'
  | 'range-ignored'
  | 'range-mismatch'
  | 'range-not-satisfiable'
  | 'validator-changed'
  | 'attempts-exhausted'
  | 'invalid-checkpoint'
  | 'not-resumable'

/**
 * A dropped stream could not be continued. `reason` says why in a word, the message in a sentence, and
 * `cause` holds the drop that started it; `attempts` counts the connections made.
 *
 * @example
 * catch (error) { if (isResumeError(error) && error.reason === 'validator-changed') restartFromScratch() }
 */
export class ResumeError extends SluiceError {
  override readonly name = 'ResumeError' as const
  readonly code = 'ERR_RESUME' as const
  readonly reason: ResumeReason
  readonly attempts: number
  /**
   * Whether `response` is the server's answer to the resume request (a reconnect, or the request of `resumeFrom`),
   * refused for what it is: another version or range, an error status, or a success that is not the rest (another
   * media type, no end marker where the stream had one, no body). `false` for a refusal made without such an
   * answer (a reconnect that failed for a bug, a strategy the consumer cannot follow, a damaged checkpoint, giving
   * up after `resume.attempts`), whose `response`, if any, is the stream's own.
   *
   * @example
   * if (isResumeError(error) && error.answered && error.response?.ok) console.warn('another body now: start over')
   */
  readonly answered: boolean
  /**
   * The start of the error page the server answered the resume request with: its first KiB at most, decoded as
   * text, like `HTTPError.excerpt`. Absent when there was none (a success, an empty or blank body); the message
   * quotes its first 200 characters.
   *
   * @example
   * if (isResumeError(error) && error.excerpt !== undefined) console.error(`the server said: ${error.excerpt}`)
   */
  declare readonly excerpt?: string

  constructor(
    reason: ResumeReason,
    message: string,
    attempts: number,
    context: ErrorContext & { answered?: boolean } = {},
  ) {
    super(message, context)
    this.reason = reason
    this.attempts = attempts
    this.answered = context.answered === true
  }
}

/** Whether `value` is a {@link ResumeError}, from any copy of sluice. @example if (isResumeError(e)) e.reason */
export const isResumeError: (value: unknown) => value is ResumeError = guardFor<ResumeError>('ResumeError')
