import { Rechunker } from '../decoders/rechunk.ts'
import { type ConsumeContext, settle } from './context.ts'

/** Options of `res.bytes()`. */
export interface BytesOptions {
  /** Re-chunk to exactly this many bytes per chunk (the last may be shorter). Default: chunks as they arrive. */
  chunkSize?: number
}

/** The body's chunks as they arrive (zero-copy), or re-chunked to `chunkSize`. */
export async function* consumeBytes(
  context: ConsumeContext,
  options: BytesOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const rechunker = options.chunkSize === undefined ? undefined : new Rechunker(options.chunkSize)
  const { source } = context
  if (rechunker !== undefined) source.attach?.({ committed: (fed) => fed - rechunker.buffered })
  let outcome: 'done' | 'error' | 'cancelled' = 'cancelled'
  try {
    if (rechunker === undefined) {
      for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) yield chunk
    } else {
      for (let chunk = await source.read(); chunk !== undefined; chunk = await source.read()) {
        for (const piece of rechunker.push(chunk)) yield piece
      }
    }
    // A cancelled source reads as ended: that is not the body's end, and a partial chunk is not flushed.
    if (source.cancelled === true) return
    if (rechunker !== undefined) for (const piece of rechunker.end()) yield piece
    outcome = 'done'
  } catch (error) {
    outcome = 'error'
    throw error
  } finally {
    await settle(context, outcome)
  }
}
