import { type ErrorContext, guardFor, SluiceError } from './sluice-error.ts'

/** The format that failed to parse. */
export type ParseErrorType = 'json' | 'ndjson' | 'sse' | 'utf8'

/** Where in the body a parse failure happened. */
export interface ParsePosition {
  /**
   * 1-based line number in the body: LF and CRLF end a line (in SSE, a lone CR too). For an event whose data is
   * not JSON, the line of the blank line that ended the event.
   */
  line: number
  /**
   * Byte offset in the body where the offending line (or byte) starts; a character (UTF-16 code unit) offset from
   * `createPartialJsonParser` without `toByteOffset`, which sees text only (its message then says `character N`).
   */
  offset: number
  /** A short excerpt of the offending input. */
  excerpt: string
}

/**
 * Part of the body is not valid for the format being read: a malformed NDJSON line, invalid UTF-8 with
 * `fatal`, invalid JSON. Items delivered before it stay delivered.
 *
 * @example
 * catch (error) { if (isParseError(error)) console.log(`line ${error.line}, byte ${error.offset}: ${error.excerpt}`) }
 */
export class ParseError extends SluiceError {
  override readonly name = 'ParseError' as const
  readonly code = 'ERR_PARSE' as const
  readonly type: ParseErrorType
  readonly line: number
  /**
   * Byte offset in the body where the offending line (or byte) starts; a character offset from
   * `createPartialJsonParser` without `toByteOffset`, as its message says.
   */
  readonly offset: number
  readonly excerpt: string

  /** `unit`: what `position.offset` counts, for the message (`createPartialJsonParser` may count characters). */
  constructor(
    type: ParseErrorType,
    problem: string,
    position: ParsePosition,
    context: ErrorContext = {},
    unit: 'byte' | 'character' = 'byte',
  ) {
    super(
      `${problem} at line ${position.line}, ${unit} ${position.offset}${position.excerpt ? `: ${JSON.stringify(position.excerpt)}` : ''}.`,
      context,
    )
    this.type = type
    this.line = position.line
    this.offset = position.offset
    this.excerpt = position.excerpt
  }
}

/** Whether `value` is a {@link ParseError}, from any copy of sluice. @example if (isParseError(e)) e.line */
export const isParseError: (value: unknown) => value is ParseError = guardFor<ParseError>('ParseError')

/** Cuts `text` to a short, single-line excerpt for messages, never between the halves of a surrogate pair. */
export function excerptOf(text: string, max = 80): string {
  // A high surrogate (0xD800–0xDBFF, 54 once shifted) at the cut would leave half a character, which
  // JSON.stringify shows as `\ud83d` and an encoder as U+FFFD: the cut moves before it.
  return text.length > max ? `${text.slice(0, max - +(text.charCodeAt(max - 1) >> 10 === 54))}…` : text
}
