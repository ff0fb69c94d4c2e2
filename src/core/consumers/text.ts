import { Utf8Decoder } from '../decoders/utf8.ts'
import { type ConsumeContext, halt, settle } from './context.ts'

/** Options of `res.text()`. */
export interface TextOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean
}

/** The body decoded as UTF-8, chunk by chunk; a character split across chunks is never broken. */
export async function* consumeText(
  context: ConsumeContext,
  options: TextOptions = {},
): AsyncGenerator<string, void, undefined> {
  const decoder = new Utf8Decoder(options.fatal ?? false)
  const { source } = context
  source.attach?.({ committed: () => decoder.offsetBefore(''), restart: () => decoder.reset() })
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) {
      const text = decoder.decode(chunk)
      if (text !== '') yield text
      if (decoder.failure) throw decoder.failure
    }
    if (source.cancelled === true) return halt(source)
    const tail = decoder.end()
    if (tail !== '') yield tail
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
