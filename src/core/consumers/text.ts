import { DECODE_SLICE_BYTES, Utf8Decoder } from '../decoders/utf8.ts'
import { chunkIterator } from './chunk-iterator.ts'
import { type ConsumeContext, originOf } from './context.ts'

/**
 * The longest chunk decoded as one string: at most 64 000 UTF-16 units, 128 000 bytes, under V8's large-object
 * size. Slicing a chunk costs a string more, which text() hands out; it is paid only where it can save the
 * large object (see `DECODE_SLICE_BYTES`).
 */
const WHOLE_CHUNK_BYTES = 64_000

/** Options of `res.text()`. */
export interface TextOptions {
  /** Throw a `ParseError` on invalid UTF-8 instead of substituting U+FFFD. Default `false`. */
  fatal?: boolean | undefined
}

/**
 * A text with a U+FFFD that `iterateText()` delivered, at character `char` of all it delivered, and the bytes it
 * decoded from (those held from before included): a U+FFFD is 3 bytes of text for the 1 to 3 of the body it
 * replaced, or for its own 3.
 */
export type Replaced = [char: number, text: string, bytes: Uint8Array[]]

/**
 * The body decoded as UTF-8, chunk by chunk; a character split across chunks is never broken. A chunk longer
 * than 64 000 bytes comes out as one string per `DECODE_SLICE_BYTES` slice of it. `replaced`, for
 * `collect.json()`, which reads one document whose errors count the body's bytes: leave a BOM at the body's start
 * in the text, note there each text with a U+FFFD, and take checkpoints at the start.
 */
export function iterateText(
  context: ConsumeContext,
  options: TextOptions = {},
  replaced?: Replaced[],
): AsyncIterator<string, void, undefined> & AsyncIterable<string> {
  const decoder = new Utf8Decoder(options.fatal ?? false, replaced !== undefined, originOf(context.source))
  let chars = 0
  /** The text of `piece`, or of the end (without one), noted in `replaced` when it has a U+FFFD. */
  const decode = (piece?: Uint8Array): string => {
    const held = decoder.held
    const text = piece ? decoder.decode(piece) : decoder.end()
    if (replaced && text.includes('\uFFFD')) replaced.push([chars, text, piece ? [held, piece] : [held]])
    chars += text.length
    return text
  }
  // Bytes read but not decoded yet: the rest of a sliced chunk, and chunks that calls made before the last one
  // settled have read since. What is not decoded is not committed, so a reconnect drops it and reads it again.
  let queue: Uint8Array[] = []
  context.source.attach?.(
    replaced
      ? // A document cannot be continued mid-way: as under json(), a checkpoint starts it over (Range still
        // continues a drop within the stream byte for byte).
        { committed: () => 0 }
      : {
          committed: () => decoder.offsetBefore(''),
          // With `fatal`, lines are counted (for the line of an error), so a checkpoint can carry them on.
          ...(options.fatal === true ? { units: () => ({ lines: decoder.lineFeeds, records: 0 }) } : {}),
          restart: () => {
            decoder.reset()
            queue = []
          },
        },
  )
  return chunkIterator<string>(context, ({ end, fail, halted, next }) => {
    /** What the next call reports after text was delivered: the end, or the error found after that text. */
    let after: 'done' | { error: unknown } | undefined
    /** The body's end was read while bytes were still queued. */
    let ended = false
    const finish = () => {
      const tail = decode()
      if (tail === '') return end('done')
      after = 'done'
      return { done: false, value: tail } as const
    }
    /** The text of `piece`, or the error found before any; `undefined` when it decodes to nothing. */
    const decodeOne = (piece: Uint8Array) => {
      const text = decode(piece)
      // With `fatal`, the valid text before a bad byte is delivered first; the error comes with the next call.
      if (decoder.failure) {
        after = { error: decoder.failure }
        queue = []
      }
      if (text !== '') return { done: false, value: text } as const
      return typeof after === 'object' ? fail(after.error) : undefined
    }
    /** Decodes the next slice of the queue, or reads on. */
    const decodeNext = () => {
      try {
        return decodeQueued()
      } catch (error) {
        return fail(error)
      }
    }
    const decodeQueued = () => {
      while (queue.length > 0) {
        const chunk = queue[0]!
        let piece = chunk
        if (chunk.length > DECODE_SLICE_BYTES) {
          piece = chunk.subarray(0, DECODE_SLICE_BYTES)
          queue[0] = chunk.subarray(DECODE_SLICE_BYTES)
        } else queue.shift()
        const step = decodeOne(piece)
        if (step !== undefined) return step
      }
      return ended ? finish() : next()
    }
    return {
      deliver(chunk) {
        if (after !== undefined) return after === 'done' ? end('done') : fail(after.error)
        if (chunk === undefined) {
          if (queue.length === 0) return finish()
          ended = true
          return decodeNext()
        }
        // Nothing queued and a chunk that cannot decode to a large object: the common case, with no queue.
        if (queue.length === 0 && chunk.length <= WHOLE_CHUNK_BYTES) {
          return decodeOne(chunk) ?? next()
        }
        queue.push(chunk)
        return decodeNext()
      },
      pending: () => {
        if (after !== undefined) return after === 'done' ? end('done') : fail(after.error)
        if (queue.length === 0 && !ended) return undefined
        return context.source.cancelled === true ? halted() : decodeNext()
      },
    }
  })
}
