import { BodySource } from '../body-source.ts'
import { Rechunker } from '../decoders/rechunk.ts'
import { type ConsumeContext, halt, settle } from './context.ts'

/** Options of `res.bytes()`. */
export interface BytesOptions {
  /** Re-chunk to exactly this many bytes per chunk (the last may be shorter). Default: chunks as they arrive. */
  chunkSize?: number
}

/**
 * The body's chunks as they arrive, zero-copy: a hand-written iterator rather than an async generator, because
 * on this path the generator's own promise per chunk is most of the cost (measured in bench/run.mjs).
 */
export function iterateBytes(context: ConsumeContext): AsyncIterator<Uint8Array, void, undefined> {
  const { source } = context
  let finished = false
  const end = async (outcome: 'done' | 'error' | 'cancelled'): Promise<IteratorResult<Uint8Array, void>> => {
    if (!finished) {
      finished = true
      await settle(context, outcome)
    }
    return { done: true, value: undefined }
  }
  const delivered = (
    chunk: Uint8Array | undefined,
  ): IteratorResult<Uint8Array, void> | Promise<IteratorResult<Uint8Array, void>> => {
    if (source.cancelled === true) {
      finished = true
      halt(source)
      return { done: true, value: undefined }
    }
    if (chunk === undefined) return end('done')
    return { done: false, value: chunk }
  }
  const failed = async (error: unknown): Promise<never> => {
    await end('error')
    throw error
  }
  // One promise per chunk: the reader's own, whose result object is handed on as the iterator result.
  const fast = source instanceof BodySource ? source : undefined
  const onFast = (
    result: ReadableStreamReadResult<Uint8Array>,
  ): IteratorResult<Uint8Array, void> | Promise<IteratorResult<Uint8Array, void>> => {
    try {
      const chunk = fast!.acceptFast(result)
      if (chunk instanceof Promise) return chunk.then(delivered, failed)
      if (source.cancelled === true) return delivered(chunk)
      return result as IteratorYieldResult<Uint8Array>
    } catch (error) {
      return failed(error)
    }
  }
  const onFastError = (error: unknown): Promise<IteratorResult<Uint8Array, void>> =>
    fast!.recoverFast(error).then(delivered, failed)
  const iterator: AsyncIterator<Uint8Array, void, undefined> & AsyncIterable<Uint8Array> = {
    next: () => {
      if (finished) return Promise.resolve({ done: true, value: undefined })
      const read = fast?.fastRead()
      if (read !== undefined) return read.then(onFast, onFastError)
      return source.read().then(delivered, failed)
    },
    return: () => end('cancelled'),
    throw: (error: unknown) => end('error').then(() => Promise.reject(error)),
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}

/** The body's chunks re-chunked to `chunkSize`. */
export async function* consumeBytes(
  context: ConsumeContext,
  options: BytesOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const rechunker = options.chunkSize === undefined ? undefined : new Rechunker(options.chunkSize)
  const { source } = context
  // Pieces of the current batch not yet delivered: a checkpoint taken in the loop body lands before them.
  let left = 0
  if (rechunker !== undefined) {
    const size = options.chunkSize ?? 0
    source.attach?.({ committed: (fed) => fed - rechunker.buffered - left * size })
  }
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    if (rechunker === undefined) {
      for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) yield chunk
    } else {
      for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) {
        const pieces = rechunker.push(chunk)
        for (let j = 0; j < pieces.length; j++) {
          // cancel() or detach() in the loop body: the rest of the batch is not delivered.
          if (source.cancelled === true) return halt(source)
          left = pieces.length - 1 - j
          yield pieces[j]!
        }
      }
    }
    // A cancelled source reads as ended: that is not the body's end, and a partial chunk is not flushed.
    if (source.cancelled === true) return halt(source)
    if (rechunker !== undefined) for (const piece of rechunker.end()) yield piece
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
