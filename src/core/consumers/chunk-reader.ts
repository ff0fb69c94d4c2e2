import { BodySource, type ChunkSource } from '../body-source.ts'

/**
 * Reads the next chunk and hands it to `use` within the read's own reaction: on `BodySource`'s fast path that is
 * one promise per chunk, where `source.read().then(use)` costs two. Whatever `use` or the read throws goes to
 * `fail`. For consumers written as hand-made iterators, where an async generator's own promise per item would
 * cost more than the rest of the consumer.
 */
export function chunkReader<R>(
  source: ChunkSource,
  use: (chunk: Uint8Array | undefined) => R | Promise<R>,
  fail: (error: unknown) => Promise<never>,
): () => Promise<R> {
  const fast = source instanceof BodySource ? source : undefined
  const safeUse = (chunk: Uint8Array | undefined): R | Promise<R> => {
    try {
      return use(chunk)
    } catch (error) {
      return fail(error)
    }
  }
  const onResult = (result: ReadableStreamReadResult<Uint8Array>): R | Promise<R> => {
    let chunk: Uint8Array | Promise<Uint8Array | undefined>
    try {
      chunk = fast!.acceptFast(result)
    } catch (error) {
      return fail(error)
    }
    return chunk instanceof Promise ? chunk.then(safeUse, fail) : safeUse(chunk)
  }
  const onError = (error: unknown): Promise<R> => fast!.recoverFast(error).then(safeUse, fail)
  return () => {
    const read = fast?.fastRead()
    return read === undefined ? source.read().then(safeUse, fail) : read.then(onResult, onError)
  }
}
