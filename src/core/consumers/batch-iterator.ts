import { chunkIterator } from './chunk-iterator.ts'
import { type ConsumeContext, STOPPED, untilStopped } from './context.ts'

type Step<T> = IteratorResult<T, void>

/** What a unit turns into when it is not an item: dropped (an invalid record skipped), or the clean end. */
export const SKIP: unique symbol = Symbol('skip')
export const STOP: unique symbol = Symbol('stop')

/** An item, or what to do instead; a promise when the item's validation is asynchronous. */
export type Outcome<T> = T | typeof SKIP | typeof STOP

/** How a consumer that decodes each chunk into many units (lines, records, events) turns them into items. */
export interface BatchConsumer<U, T> {
  /** Decodes the next chunk, or `undefined` at the body's proven end, into the units it completes. */
  feed(chunk: Uint8Array | undefined): readonly U[]
  /** Unit `j` of a batch of `size`, as an item, `SKIP` or `STOP`; called once per unit, in order. */
  take(unit: U, j: number, size: number): Outcome<T> | Promise<Outcome<T>>
  /** An error found after the units of the last batch (invalid UTF-8 with `fatal`), thrown once they are out. */
  failure?(): unknown
  /** Ends the body after `STOP`: the rest is not wanted. */
  stop?(): Promise<void>
  /**
   * Feed a longer chunk in pieces of at most this many bytes, each decoded and delivered before the next: for
   * decoders whose cost per byte grows with the size of what they decode (see `DECODE_SLICE_BYTES`).
   */
  slice?: number
}

const NO_UNITS: readonly never[] = []

/**
 * A hand-written async iterator over the items a batch consumer decodes. An item already decoded is handed out
 * with no promise but the one `next()` returns, where an async generator spends more promises per item than
 * the decoding of a small record costs: `lines()`, `ndjson()` and `events()` ran 1.02–1.14× faster on 200 B
 * items than as generators (Node 24 and 26, Chromium), `bytes({ chunkSize })` 1.06–1.35× with 1–4 KiB
 * pieces. Calls take turns (the chunk iterator's), so a call made while another waits gets the next item,
 * never one of another batch. As in the generators it replaces, a source stopped by `cancel()` or `detach()`
 * between two items ends the iteration before the rest of the batch.
 */
export function batchIterator<U, T>(
  context: ConsumeContext,
  consumer: BatchConsumer<U, T>,
): AsyncIterator<T, void, undefined> & AsyncIterable<T> {
  const { source } = context
  const { slice } = consumer
  return chunkIterator<T>(context, ({ end, fail, halted, next }) => {
    let units: readonly U[] = NO_UNITS
    let j = 0
    let last = false
    let rest: Uint8Array | undefined
    const stopped = (): Promise<Step<T>> =>
      (consumer.stop?.() ?? Promise.resolve()).then(() => end('done'), fail)
    const settled = (outcome: Outcome<T>): Step<T> | Promise<Step<T>> =>
      outcome === SKIP ? emit() : outcome === STOP ? stopped() : { done: false, value: outcome }
    // An item whose validation is pending: a source stopped meanwhile ends the iteration then.
    const pending = (outcome: Promise<Outcome<T>>): Promise<Step<T>> =>
      untilStopped(outcome, source).then((settledAs) => {
        if (settledAs !== STOPPED) return settled(settledAs)
        try {
          return halted()
        } catch (error) {
          return fail(error)
        }
      }, fail)
    /** The next item of the batch; past its last unit, the error or end found after it, or a read. */
    const emit = (): Step<T> | Promise<Step<T>> => {
      try {
        while (j < units.length) {
          if (source.cancelled === true) return halted()
          const k = j++
          const outcome = consumer.take(units[k]!, k, units.length)
          if (outcome instanceof Promise) return pending(outcome)
          if (outcome === SKIP) continue
          if (outcome === STOP) return stopped()
          return { done: false, value: outcome }
        }
        const failure = consumer.failure?.()
        if (failure !== undefined) return fail(failure)
        // The rest of a sliced chunk is read like the next chunk would be: not once the source is stopped.
        if (rest !== undefined) return source.cancelled === true ? halted() : feed(rest)
        return last ? end('done') : next()
      } catch (error) {
        return fail(error)
      }
    }
    // A chunk is fed whole, or in pieces of `slice` bytes. The source reads again (and may reconnect and
    // restart the consumer) only once the last piece is out, so no piece outlives its connection.
    const feed = (chunk: Uint8Array | undefined): Step<T> | Promise<Step<T>> => {
      rest = undefined
      if (chunk !== undefined && slice !== undefined && chunk.length > slice) {
        rest = chunk.subarray(slice)
        chunk = chunk.subarray(0, slice)
      }
      units = consumer.feed(chunk)
      j = 0
      last = chunk === undefined
      return emit()
    }
    return {
      deliver: feed,
      pending: () =>
        j < units.length || last || rest !== undefined || consumer.failure?.() !== undefined
          ? emit()
          : undefined,
    }
  })
}
