import { LineDecoder } from '../decoders/lines.ts'
import { DECODE_SLICE_BYTES } from '../decoders/utf8.ts'
import { batchIterator } from './batch-iterator.ts'
import { type ConsumeContext, originOf } from './context.ts'
import { LinePosition } from './line-position.ts'

/** Options of `res.lines()`. */
export interface LinesOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean | undefined
}

/** The body's lines without terminators (LF or CRLF), BOM stripped, the final unterminated line included. */
export function consumeLines(
  context: ConsumeContext,
  options: LinesOptions = {},
): AsyncIterator<string, void, undefined> & AsyncIterable<string> {
  const { source, progress } = context
  const decoder = new LineDecoder({
    fatal: options.fatal ?? false,
    maxLineBytes: context.limits.maxLineBytes,
    origin: originOf(source),
  })
  const position = new LinePosition(source, decoder, 'lines', (line) => ({ value: line }))
  return batchIterator<string, string>(context, {
    feed(chunk) {
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      position.batch(lines)
      return lines
    },
    take(line, j) {
      position.at = j
      position.records++
      progress.item()
      position.last = line
      position.delivered = true
      return line
    },
    // The lines before a bad byte (with `fatal`) or a line over maxLineBytes are delivered first; the error
    // comes with the next call.
    failure: () => decoder.failure,
    slice: DECODE_SLICE_BYTES,
  })
}
