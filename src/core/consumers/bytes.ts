import type { Rechunker } from '../decoders/rechunk.ts'
import { batchIterator } from './batch-iterator.ts'
import { chunkIterator } from './chunk-iterator.ts'
import type { ConsumeContext } from './context.ts'

/** Options of `res.bytes()`. */
export interface BytesOptions {
  /** Re-chunk to exactly this many bytes per chunk (the last may be shorter). Default: chunks as they arrive. */
  chunkSize?: number | undefined
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

/** The body's chunks re-chunked by `rechunker` (made at the call, so that a bad `chunkSize` fails there). */
export function consumeBytes(
  context: ConsumeContext,
  rechunker: Rechunker,
): AsyncIterator<Uint8Array, void, undefined> & AsyncIterable<Uint8Array> {
  const { size } = rechunker
  // Pieces of the current batch not yet delivered: a checkpoint taken in the loop body lands before them.
  let left = 0
  context.source.attach?.({ committed: (fed) => fed - rechunker.buffered - left * size })
  return batchIterator<Uint8Array, Uint8Array>(context, {
    // A cancelled source never reaches here as an end, so a partial chunk is flushed only at the body's end.
    feed: (chunk) => (chunk === undefined ? rechunker.end() : rechunker.push(chunk)),
    take(piece, j, count) {
      left = count - 1 - j
      return piece
    },
  })
}
