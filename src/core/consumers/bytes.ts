import { Rechunker } from '../decoders/rechunk.ts'
import { chunkIterator } from './chunk-iterator.ts'
import { type ConsumeContext, halt, settle } from './context.ts'

/** Options of `res.bytes()`. */
export interface BytesOptions {
  /** Re-chunk to exactly this many bytes per chunk (the last may be shorter). Default: chunks as they arrive. */
  chunkSize?: number
}

/**
 * The body's chunks as they arrive, zero-copy: the reader's own result object is handed on as the iterator
 * result, so a chunk costs one promise (measured in bench/run.mjs).
 */
export function iterateBytes(context: ConsumeContext): AsyncIterator<Uint8Array, void, undefined> {
  return chunkIterator<Uint8Array>(context, ({ end }) => ({
    deliver: (chunk, result) =>
      chunk === undefined
        ? end('done')
        : ((result as IteratorYieldResult<Uint8Array> | undefined) ?? { done: false, value: chunk }),
  }))
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
