import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/** The limits that bound sluice's memory against any server. */
export type LimitName = 'maxBytes' | 'maxLineBytes' | 'maxEventBytes' | 'maxDepth'

/**
 * A configured limit was exceeded — bounded memory against hostile or broken servers. `limit` names the
 * option to raise; `line` and `offset` say where in the body it was exceeded, where known, counted as a
 * `ParseError`'s are: the same under any chunking, and from the start of the body in a stream continued from a
 * checkpoint. Limits in bytes count the body's bytes: an invalid byte, a U+FFFD of 3 bytes in the text, counts
 * once.
 *
 * @example
 * catch (error) { if (isLimitError(error)) console.log(`${error.limit} (${error.max}) exceeded at byte ${error.offset}`) }
 */
export class LimitError extends SluiceError {
  override readonly name = 'LimitError' as const
  readonly code = 'ERR_LIMIT' as const
  readonly limit: LimitName
  readonly max: number
  /**
   * 1-based line number in the body (LF and CRLF end a line; in SSE, a lone CR too) where the part over the
   * limit starts: the line over `maxLineBytes`; the first line of the event over `maxEventBytes`, when
   * `events()` counts lines (it does when it parses data: `json`, or a schema); the line of the bracket that
   * nests deeper than `maxDepth`. `undefined` for `maxBytes`, and where lines are not counted.
   */
  readonly line: number | undefined
  /**
   * Byte offset in the body where the part over the limit starts: the line over `maxLineBytes`; the event over
   * `maxEventBytes` (its block, after the blank line before it); the bracket that nests deeper than `maxDepth`
   * (a character offset from `createPartialJsonParser` without `toByteOffset`, as for its `ParseError`). For
   * `maxBytes`, where the body was cut: the first byte not delivered. `undefined` where not known.
   */
  readonly offset: number | undefined

  /**
   * `position`: where the limit was exceeded, when known (see `line` and `offset`); `unit`: what `max` counts, for
   * the message (`createPartialJsonParser` counts its `maxBytes` in characters of the text it is given).
   */
  constructor(
    limit: LimitName,
    max: number,
    where: string,
    context: ErrorContext = {},
    position: { line?: number | undefined; offset?: number | undefined } = {},
    unit: string = limit === 'maxDepth' ? 'levels' : 'bytes',
  ) {
    super(
      `${where} exceeds ${limit} (${max} ${unit}); raise the \`${limit}\` option if this is expected.`,
      context,
    )
    this.limit = limit
    this.max = max
    this.line = position.line
    this.offset = position.offset
  }
}

/** Whether `value` is a {@link LimitError}, from any copy of sluice. @example if (isLimitError(e)) e.limit */
export const isLimitError: (value: unknown) => value is LimitError = guardFor<LimitError>('LimitError')
