import { LineDecoder } from '../decoders/lines.ts'
import { type ConsumeContext, settle } from './context.ts'

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
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    for (;;) {
      const chunk = await source.read()
      if (chunk === undefined && source.cancelled === true) return
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      for (let j = 0; j < lines.length; j++) {
        progress.item()
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
