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

  constructor(reason: ResumeReason, message: string, attempts: number, context: ErrorContext = {}) {
    super(message, context)
    this.reason = reason
    this.attempts = attempts
  }
}

/** Whether `value` is a {@link ResumeError}, from any copy of sluice. @example if (isResumeError(e)) e.reason */
export const isResumeError: (value: unknown) => value is ResumeError = guardFor<ResumeError>('ResumeError')
