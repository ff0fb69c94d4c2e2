import { BodySource } from '../body-source.ts'
import { type ConsumeContext, halt, inBody, settle } from './context.ts'

type Step<T> = IteratorResult<T, void>

/** What a chunk iterator's `deliver` can do besides returning an item. */
export interface IteratorControl<T> {
  /** Ends the iteration with `outcome` (settled once), then reports done. */
  end(outcome: 'done' | 'error' | 'cancelled'): Promise<Step<T>>
  /** Ends with an error, then rejects with it. */
  fail(error: unknown): Promise<never>
  /**
   * Ends because the source was stopped under the iteration: quietly after `cancel()` or `detach()`, with the
   * abort reason (thrown) after the user's signal aborted.
   */
  halted(): Promise<Step<T>>
  /** Reads on: the next step, as the caller's next `next()` would get it. */
  next(): Promise<Step<T>>
}

/** How a consumer turns chunks into items. */
export interface ChunkConsumer<T> {
  /**
   * The next chunk, or `undefined` at the body's proven end. `result` is the reader's own result object when
   * the chunk came straight from it, so that a consumer that hands chunks on unchanged can reuse it.
   */
  deliver(
    chunk: Uint8Array | undefined,
    result?: ReadableStreamReadResult<Uint8Array>,
  ): Step<T> | Promise<Step<T>>
  /**
   * What the next call reports instead of reading, if anything: an item already decoded (a step, which costs
   * no promise of its own), or an end or error found after delivered text.
   */
  pending?(): Step<T> | Promise<Step<T>> | undefined
}

/**
 * A hand-written async iterator over the source's chunks, for consumers cheap enough that an async generator's
 * own promises per item would be most of their cost (`bytes()`, `text()`, and through `batchIterator` the
 * line, record, event and re-chunking consumers). On `BodySource`'s fast path each chunk costs one promise: the
 * reader's, whose reaction delivers it. A source stopped by `cancel()` or `detach()` ends the iteration
 * quietly; the user's abort rejects it with its reason.
 */
export function chunkIterator<T>(
  context: ConsumeContext,
  consumer: (control: IteratorControl<T>) => ChunkConsumer<T>,
): AsyncIterator<T, void, undefined> & AsyncIterable<T> {
  const { source } = context
  let finished = false
  // The consumer's half, made below once the controls it is given exist.
  let steps: ChunkConsumer<T> | undefined
  const end = async (outcome: 'done' | 'error' | 'cancelled'): Promise<Step<T>> => {
    if (!finished) {
      finished = true
      await settle(context, outcome)
    }
    return { done: true, value: undefined }
  }
  const fail = async (error: unknown): Promise<never> => {
    inBody(error, source)
    await end('error')
    throw error
  }
  const halted = (): Promise<Step<T>> => {
    halt(source)
    return end('cancelled')
  }
  const take = (
    chunk: Uint8Array | undefined,
    result?: ReadableStreamReadResult<Uint8Array>,
  ): Step<T> | Promise<Step<T>> => {
    try {
      // A cancelled source reads as ended: that is not the body's end, and nothing partial is flushed.
      if (source.cancelled === true) return halted()
      return steps!.deliver(chunk, result)
    } catch (error) {
      return fail(error)
    }
  }
  const fast = source instanceof BodySource ? source : undefined
  const onResult = (result: ReadableStreamReadResult<Uint8Array>): Step<T> | Promise<Step<T>> => {
    let chunk: Uint8Array | Promise<Uint8Array | undefined>
    try {
      chunk = fast!.acceptFast(result)
    } catch (error) {
      return fail(error)
    }
    return chunk instanceof Promise ? chunk.then(take, fail) : take(chunk, result)
  }
  const onError = (error: unknown): Promise<Step<T>> => fast!.recoverFast(error).then(take, fail)
  /** The next step: at once when the consumer has one ready, else the promise of a read. */
  const advance = (): Step<T> | Promise<Step<T>> => {
    if (finished) return { done: true, value: undefined }
    const pending = steps!.pending?.()
    if (pending !== undefined) return pending
    const read = fast?.fastRead()
    return read === undefined ? source.read().then(take, fail) : read.then(onResult, onError)
  }
  const next = (): Promise<Step<T>> => {
    const step = advance()
    return step instanceof Promise ? step : Promise.resolve(step)
  }
  // Calls take turns: one made while a read is in flight waits for it, or two reads could overlap, interleave
  // the items of their chunks, and a drop be recovered twice. A step ready at once needs no turn. The turn ends
  // inside the reaction that already delivers the read's step, so a read costs no promise of its own; only a
  // step that is itself a promise (an asynchronous schema, the end, an error, a recovery) is followed to its
  // settling.
  let reading = false
  const readers: Array<() => void> = []
  const settled = (step: Step<T> | Promise<Step<T>>): Step<T> | Promise<Step<T>> => {
    if (step instanceof Promise) return step.finally(readOn)
    readOn()
    return step
  }
  const readOn = (): void => {
    reading = false
    // Waiting calls whose steps are ready take them now; the first that has to read holds the turn.
    while (!reading && readers.length > 0) readers.shift()!()
  }
  const takeInTurn = (chunk: Uint8Array | undefined) => settled(take(chunk))
  const failInTurn = (error: unknown) => settled(fail(error))
  const onResultInTurn = (result: ReadableStreamReadResult<Uint8Array>) => settled(onResult(result))
  const onErrorInTurn = (error: unknown) => settled(onError(error))
  const orderedNext = (): Promise<Step<T>> => {
    if (reading) return new Promise((resolve) => readers.push(() => resolve(orderedNext())))
    if (finished) return Promise.resolve({ done: true, value: undefined })
    let pending: Step<T> | Promise<Step<T>> | undefined
    try {
      pending = steps!.pending?.()
    } catch (error) {
      return fail(error)
    }
    if (pending !== undefined) {
      if (!(pending instanceof Promise)) return Promise.resolve(pending)
      reading = true
      return settled(pending) as Promise<Step<T>>
    }
    reading = true
    const read = fast?.fastRead()
    return read === undefined
      ? source.read().then(takeInTurn, failInTurn)
      : read.then(onResultInTurn, onErrorInTurn)
  }
  // A consumer reads on from inside a step, whose turn it already has: its `next` does not queue.
  steps = consumer({ end, fail, halted, next })
  const iterator: AsyncIterator<T, void, undefined> & AsyncIterable<T> = {
    next: orderedNext,
    return: () => end('cancelled'),
    throw: (error: unknown) => end('error').then(() => Promise.reject(error)),
    [Symbol.asyncIterator]: () => iterator,
  }
  return iterator
}
