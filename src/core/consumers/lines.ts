import { LineDecoder } from '../decoders/lines.ts'
import { type ConsumeContext, halt, settle } from './context.ts'
import { LinePosition } from './line-position.ts'

/** Options of `res.lines()`. */
export interface LinesOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean
}

/** The body's lines without terminators (LF or CRLF), BOM stripped, the final unterminated line included. */
export async function* consumeLines(
  context: ConsumeContext,
  options: LinesOptions = {},
): AsyncGenerator<string, void, undefined> {
  const decoder = new LineDecoder({
    fatal: options.fatal ?? false,
    maxLineBytes: context.limits.maxLineBytes,
  })
  const { source, progress } = context
  const position = new LinePosition(source, decoder)
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    for (;;) {
      const chunk = await source.read()
      if (chunk === undefined && source.cancelled === true) return
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      position.batch(lines.length)
      for (let j = 0; j < lines.length; j++) {
        // cancel() or detach() in the loop body: the rest of the batch is not delivered.
        if (source.cancelled === true) return halt(source)
        position.at = j
        progress.item()
        position.last = lines[j]
        position.delivered = true
        yield lines[j]!
      }
      if (decoder.failure) throw decoder.failure
      if (chunk === undefined) break
    }
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
