/**
 * A stop while a reconnect is under way — `res.cancel()`, `res.detach()`, the user's signal, the iterator's
 * `return()` — during its backoff (nothing sent yet) or while its request waits for an answer: the listener is told
 * `cancelled` once, last, with the attempt it was told of (a count that never goes back), while the checkpoint counts
 * the requests actually sent; `res.progress` says the same as the listener, and nothing is reported after it. The
 * total timeout firing in the backoff ends it `error`, counted the same.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, isTimeoutError, type Progress, type StreamResponse, sluice } from '../src/index.ts'
import { fetchWith, responseOf } from './support/streams.ts'

const TEXT = '{"i":0}\n{"i":1}\n'
const HEADERS = { 'accept-ranges': 'bytes', 'content-length': String(TEXT.length) }
/** A backoff the test never sees the end of: the stop comes while the reconnect waits it out. */
const WAITS = { initial: 600_000, max: 600_000, jitter: 0 }
/** A reconnect sent at once. */
const AT_ONCE = { initial: 1, max: 1, jitter: 0 }

const PRESSED = new Error('The user pressed stop.')
type Stop = 'cancel' | 'detach' | 'abort' | 'return'
const STOPS: Stop[] = ['cancel', 'detach', 'abort', 'return']

interface Run {
  seen: Progress[]
  res: StreamResponse
  /** Requests made for the reconnects (the first response is not one). */
  sent: () => number
  /** Resolves once a reconnect's request was made. */
  made: Promise<void>
  /** Resolves at the `reconnecting` report of attempt `n`. */
  reconnecting: (n: number) => Promise<void>
  /** Reads the records until the stream ends; what it ended with. */
  rows: Promise<{ rows: unknown[]; error: unknown }>
  iterator: AsyncIterator<unknown>
  abort: AbortController
}

/**
 * A stream whose body drops after its first record; each reconnect either never gets its headers (`hold`) or
 * answers 503 (the next one then waits out `backoff`'s later delays).
 */
async function dropping(backoff: object, answers: Array<'hold' | 503>): Promise<Run> {
  const seen: Progress[] = []
  const waiting = new Map<number, () => void>()
  const abort = new AbortController()
  const made = Promise.withResolvers<void>()
  let sent = 0
  const res = await fromResponse(
    responseOf([TEXT.slice(0, 10)], { headers: HEADERS, error: new TypeError('terminated') }),
    {
      url: 'https://fn.example/stream',
      signal: abort.signal,
      progressInterval: 0,
      onProgress: (p) => {
        seen.push(p)
        if (p.state === 'reconnecting') waiting.get(p.attempt)?.()
      },
      resume: { strategy: 'range', backoff },
      request: ({ signal }) => {
        const answer = answers[sent++] ?? 'hold'
        made.resolve()
        if (answer === 503) return Promise.resolve(new Response('busy', { status: 503 }))
        return new Promise<Response>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason), { once: true })
        })
      },
    },
  )
  const iterator = res.ndjson()[Symbol.asyncIterator]()
  const rows = (async () => {
    const rows: unknown[] = []
    try {
      for (;;) {
        const step = await iterator.next()
        if (step.done) return { rows, error: undefined }
        rows.push(step.value)
      }
    } catch (error) {
      return { rows, error }
    }
  })()
  const reconnecting = (n: number) => {
    if (seen.some((p) => p.state === 'reconnecting' && p.attempt === n)) return Promise.resolve()
    return new Promise<void>((resolve) => waiting.set(n, resolve))
  }
  return { seen, res, sent: () => sent, made: made.promise, reconnecting, rows, iterator, abort }
}

async function stop(run: Run, how: Stop): Promise<void> {
  if (how === 'cancel') await run.res.cancel()
  else if (how === 'detach') run.res.detach()
  else if (how === 'abort') run.abort.abort(PRESSED)
  else await run.iterator.return?.()
}

/** The reports from the first `reconnecting` on. */
const fromReconnect = (seen: Progress[]) =>
  seen
    .slice(seen.findIndex((p) => p.state === 'reconnecting'))
    .map(({ state, attempt }) => ({ state, attempt }))

describe('a stop while a reconnect waits out its backoff', () => {
  for (const how of STOPS) {
    it(`(${how}) ends cancelled once, its checkpoint counting only the request sent`, async () => {
      const run = await dropping(WAITS, [])
      await run.reconnecting(2)
      expect(run.res.progress).toMatchObject({ state: 'reconnecting', attempt: 2 })
      await stop(run, how)
      const { rows, error } = await run.rows
      expect(rows).toEqual([{ i: 0 }])
      // The user's abort rejects the loop with its reason; every other stop ends it quietly.
      expect(error).toBe(how === 'abort' ? PRESSED : undefined)
      expect(run.sent()).toBe(0)
      // "Reconnecting, attempt 2" was announced and stands (a progress count never goes back); the stop came
      // before it was made: one request in all, which the checkpoint counts.
      expect(fromReconnect(run.seen)).toEqual([
        { state: 'reconnecting', attempt: 2 },
        { state: 'cancelled', attempt: 2 },
      ])
      expect(run.res.progress).toMatchObject({ state: 'cancelled', attempt: 2 })
      expect(run.res.checkpoint().attempt).toBe(1)
    })
  }

  it('after a reconnect that was sent and failed, its checkpoint counts that one and not the next', async () => {
    // The drop, a reconnect at once that meets a 503, then a wait before the third request.
    const run = await dropping({ initial: 1, factor: 600_000, max: 600_000, jitter: 0 }, [503])
    await run.reconnecting(3)
    await run.res.cancel()
    await run.rows
    expect(run.sent()).toBe(1)
    expect(fromReconnect(run.seen)).toEqual([
      { state: 'reconnecting', attempt: 2 },
      { state: 'reconnecting', attempt: 3 },
      { state: 'cancelled', attempt: 3 },
    ])
    expect(run.res.checkpoint().attempt).toBe(2)
  })
})

describe('a stream that fails while a reconnect waits out its backoff', () => {
  it('ends error with the attempt it announced: the total timeout firing in the backoff', async () => {
    const seen: Progress[] = []
    let requests = 0
    const fetch = fetchWith(() => {
      requests++
      return responseOf([TEXT.slice(0, 10)], { headers: HEADERS, error: new TypeError('terminated') })
    })
    const res = await sluice('https://fn.example/stream', {
      fetch,
      totalTimeout: 50,
      progressInterval: 0,
      onProgress: (p) => seen.push(p),
      resume: { backoff: WAITS },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isTimeoutError(error)).toBe(true)
    expect(requests).toBe(1)
    expect(fromReconnect(seen)).toEqual([
      { state: 'reconnecting', attempt: 2 },
      { state: 'error', attempt: 2 },
    ])
    expect(res.progress).toMatchObject({ state: 'error', attempt: 2 })
    expect(res.checkpoint().attempt).toBe(1)
  })
})

describe('a stop while a reconnect waits for its answer', () => {
  for (const how of STOPS) {
    it(`(${how}) ends cancelled once, counting the request sent`, async () => {
      const run = await dropping(AT_ONCE, ['hold'])
      await run.made
      expect(run.res.progress).toMatchObject({ state: 'reconnecting', attempt: 2 })
      await stop(run, how)
      const { rows, error } = await run.rows
      expect(rows).toEqual([{ i: 0 }])
      // The user's abort rejects the loop with its reason; every other stop ends it quietly.
      expect(error).toBe(how === 'abort' ? PRESSED : undefined)
      expect(run.sent()).toBe(1)
      expect(fromReconnect(run.seen)).toEqual([
        { state: 'reconnecting', attempt: 2 },
        { state: 'cancelled', attempt: 2 },
      ])
      expect(run.res.progress).toMatchObject({ state: 'cancelled', attempt: 2 })
      expect(run.res.checkpoint().attempt).toBe(2)
    })
  }
})
