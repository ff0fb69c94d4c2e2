import type { StandardSchemaV1 } from '../schema.ts'
import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/**
 * An item parsed but did not match the schema. Not a transport failure: the stream itself is fine.
 * `index` is the 0-based item number, `issues` what the schema reported.
 *
 * @example
 * for await (const row of res.ndjson(Row, { onInvalid: (e) => isValidationError(e) && console.warn(e.index, e.issues) })) use(row)
 */
export class ValidationError extends SluiceError {
  override readonly name = 'ValidationError' as const
  readonly code = 'ERR_VALIDATION' as const
  readonly issues: readonly StandardSchemaV1.Issue[]
  readonly index: number
  /** The value that failed validation. */
  readonly value: unknown

  constructor(
    issues: readonly StandardSchemaV1.Issue[],
    index: number,
    value: unknown,
    context: ErrorContext = {},
  ) {
    const first = issues[0]
    const path = first?.path?.map((p) => (typeof p === 'object' ? String(p.key) : String(p))).join('.')
    const detail = first ? `${path ? `${path}: ` : ''}${first.message}` : 'no details'
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : ''
    super(`Item ${index} does not match the schema: ${detail}${more}.`, context)
    this.issues = issues
    this.index = index
    this.value = value
  }
}

/** Whether `value` is a {@link ValidationError}, from any copy of sluice. @example if (isValidationError(e)) e.issues */
export const isValidationError: (value: unknown) => value is ValidationError =
  guardFor<ValidationError>('ValidationError')
