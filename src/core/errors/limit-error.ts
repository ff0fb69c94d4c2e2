import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/** The limits that bound sluice's memory against any server. */
export type LimitName = 'maxBytes' | 'maxLineBytes' | 'maxEventBytes' | 'maxDepth'

/**
 * A configured limit was exceeded — bounded memory against hostile or broken servers. `limit` names the
 * option to raise.
 *
 * @example
 * catch (error) { if (isLimitError(error)) console.log(`${error.limit} (${error.max}) exceeded`) }
 */
export class LimitError extends SluiceError {
  override readonly name = 'LimitError' as const
  readonly code = 'ERR_LIMIT' as const
  readonly limit: LimitName
  readonly max: number

  constructor(limit: LimitName, max: number, where: string, context: ErrorContext = {}) {
    const unit = limit === 'maxDepth' ? 'levels' : 'bytes'
    super(
      `${where} exceeds ${limit} (${max} ${unit}); raise the \`${limit}\` option if this is expected.`,
      context,
    )
    this.limit = limit
    this.max = max
  }
}

/** Whether `value` is a {@link LimitError}, from any copy of sluice. @example if (isLimitError(e)) e.limit */
export const isLimitError: (value: unknown) => value is LimitError = guardFor<LimitError>('LimitError')
