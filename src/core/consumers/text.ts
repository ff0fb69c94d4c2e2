import { Utf8Decoder } from '../decoders/utf8.ts'
import { chunkIterator } from './chunk-iterator.ts'
import type { ConsumeContext } from './context.ts'

/** Options of `res.text()`. */
export interface TextOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean
}

/** The body decoded as UTF-8, chunk by chunk; a character split across chunks is never broken. */
export function iterateText(
  context: ConsumeContext,
  options: TextOptions = {},
): AsyncIterator<string, void, undefined> & AsyncIterable<string> {
  const decoder = new Utf8Decoder(options.fatal ?? false)
  context.source.attach?.({ committed: () => decoder.offsetBefore(''), restart: () => decoder.reset() })
  return chunkIterator<string>(context, ({ end, fail, next }) => {
    /** What the next call reports after text was delivered: the end, or the error found after that text. */
    let after: 'done' | { error: unknown } | undefined
    return {
      deliver(chunk) {
        if (chunk === undefined) {
          const tail = decoder.end()
          if (tail === '') return end('done')
          after = 'done'
          return { done: false, value: tail }
        }
        const text = decoder.decode(chunk)
        // With `fatal`, the valid text before a bad byte is delivered first; the error comes with the next call.
        if (decoder.failure) after = { error: decoder.failure }
        return text === '' ? next() : { done: false, value: text }
      },
      pending: () => (after === undefined ? undefined : after === 'done' ? end('done') : fail(after.error)),
    }
  })
}
