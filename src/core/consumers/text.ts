import { Utf8Decoder } from '../decoders/utf8.ts'
import { chunkReader } from './chunk-reader.ts'
import { type ConsumeContext, halt, settle } from './context.ts'

/** Options of `res.text()`. */
export interface TextOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean
}

type Step = IteratorResult<string, void>

/**
 * The body decoded as UTF-8, chunk by chunk; a character split across chunks is never broken. A hand-written
 * iterator rather than an async generator, like `bytes()`: one promise per chunk instead of three.
 */
export function iterateText(
  context: ConsumeContext,
  options: TextOptions = {},
): AsyncIterator<string, void, undefined> & AsyncIterable<string> {
  const decoder = new Utf8Decoder(options.fatal ?? false)
  const { source } = context
  source.attach?.({ committed: () => decoder.offsetBefore(''), restart: () => decoder.reset() })
  let finished = false
  /** What the next call reports after text was delivered: the end, or the error found after that text. */
  let after: 'done' | { error: unknown } | undefined
  const end = async (outcome: 'done' | 'error' | 'cancelled'): Promise<Step> => {
    if (!finished) {
      finished = true
      await settle(context, outcome)
    }
    return { done: true, value: undefined }
  }
  const fail = async (error: unknown): Promise<never> => {
    await end('error')
    throw error
  }
  const decoded = (chunk: Uint8Array | undefined): Step | Promise<Step> => {
    if (chunk === undefined) {
      // A cancelled source reads as ended: that is not the body's end, and a partial character is not flushed.
      if (source.cancelled === true) {
        halt(source)
        return end('cancelled')
      }
      const tail = decoder.end()
      if (tail === '') return end('done')
      after = 'done'
      return { done: false, value: tail }
    }
    const text = decoder.decode(chunk)
    // With `fatal`, the valid text before a bad byte is delivered first; the error comes with the next call.
    if (decoder.failure) after = { error: decoder.failure }
    if (text !== '') return { done: false, value: text }
    return next()
  }
  const read = chunkReader(source, decoded, fail)
  const next = (): Promise<Step> => {
    if (finished) return Promise.resolve({ done: true, value: undefined })
    if (after !== undefined) return after === 'done' ? end('done') : fail(after.error)
    return read()
  }
  const iterator: AsyncIterator<string, void, undefined> & AsyncIterable<string> = {
    next,
    return: () => end('cancelled'),
    throw: (error: unknown) => end('error').then(() => Promise.reject(error)),
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}
