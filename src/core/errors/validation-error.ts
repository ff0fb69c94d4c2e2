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
    const keys = first?.path?.map((p) => (typeof p === 'object' ? p.key : p)) ?? []
    const path = keys.map(String).join('.')
    // arktype's messages start with the path already, written as in code (`rows[0].id must be a number`).
    const written = keys.map((key, i) =>
      typeof key === 'number' ? `[${key}]` : `${i ? '.' : ''}${String(key)}`,
    )
    const named =
      path !== '' && [path, written.join('')].some((form) => first?.message.startsWith(`${form} `))
    const detail = first ? `${path && !named ? `${path}: ` : ''}${first.message}` : 'no details'
    const more =
      issues.length > 1 ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? 's' : ''})` : ''
    super(`The item at index ${index} does not match the schema: ${detail}${more}.`, context)
    this.issues = issues
    this.index = index
    this.value = value
  }
}

/** Whether `value` is a {@link ValidationError}, from any copy of sluice. @example if (isValidationError(e)) e.issues */
export const isValidationError: (value: unknown) => value is ValidationError =
  guardFor<ValidationError>('ValidationError')
