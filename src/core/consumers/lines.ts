import { LineDecoder } from '../decoders/lines.ts'
import { type ConsumeContext, halt, settle } from './context.ts'

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
  // The line being handled: lines before it in the batch were delivered (or skipped), so a checkpoint taken
  // in the loop body lands right after it. -1 until the first line of a batch.
  let at = -1
  let size = 0
  let last: { value: unknown } | undefined
  source.attach?.({
    committed: () =>
      at !== -1 ? decoder.offsetAfter(at) : size > 0 ? decoder.lineOffset(0) : decoder.partialOffset(),
    restart: () => {
      decoder.reset()
      at = -1
      size = 0
    },
    lastItem: () => last,
  })
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    for (;;) {
      const chunk = await source.read()
      if (chunk === undefined && source.cancelled === true) return
      const lines = chunk === undefined ? decoder.end() : decoder.push(chunk)
      at = -1
      size = lines.length
      for (let j = 0; j < lines.length; j++) {
        // cancel() or detach() in the loop body: the rest of the batch is not delivered.
        if (source.cancelled === true) return halt(source)
        at = j
        progress.item()
        last = { value: lines[j] }
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
