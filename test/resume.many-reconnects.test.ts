/**
 * A stream that lives for hours and reconnects thousands of times keeps what it holds constant. Node 22's
 * `AbortSignal.any()` keeps memory for each call for as long as its sources live (nodejs/node#55351): a reconnect
 * must not give it a signal that lives as long as the stream (the one that follows the user's, the total
 * timeout's), or each reconnect leaves memory behind until the stream ends. Counted here: for each signal given to
 * `AbortSignal.any()`, the calls it was given to, over a stream with 5 drops and one with 25.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { isTimeoutError, sluice } from '../src/index.ts'

const any = AbortSignal.any
/** For each signal given to AbortSignal.any() (weakly: a stream's signals go with it), the calls it was in. */
let calls = new WeakMap<AbortSignal, number>()
let most = 0

beforeEach(() => {
  calls = new WeakMap()
  most = 0
  AbortSignal.any = (signals: Iterable<AbortSignal>): AbortSignal => {
    const sources = [...signals]
    for (const source of sources) {
      const n = (calls.get(source) ?? 0) + 1
      calls.set(source, n)
      most = Math.max(most, n)
    }
    return any.call(AbortSignal, sources)
  }
})

afterEach(() => {
  AbortSignal.any = any
})

const RECORDS = 3

/** A server that answers `?after=N` with the next records and drops the connection after them, `drops` times. */
function dropping(drops: number): typeof fetch {
  return async (input) => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    const after = url.searchParams.get('after')
    const from = after === null ? 0 : Number(after) + 1
    const last = from + RECORDS >= (drops + 1) * RECORDS
    const rows = Array.from({ length: RECORDS }, (_, i) => `{"id":${from + i}}\n`).join('')
    let sent = false
    // The drop comes on the read after the records (an error discards what is queued before it).
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (!sent) controller.enqueue(new TextEncoder().encode(`${rows}${last ? '' : '{"id":'}`))
        else if (last) controller.close()
        else controller.error(new TypeError('terminated'))
        sent = true
      },
    })
    return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } })
  }
}

/** The most calls of AbortSignal.any() one signal was given to, over a stream that dropped `drops` times. */
async function mostCallsPerSignal(drops: number, signal: AbortSignal): Promise<number> {
  const res = await sluice('https://fn.test/rows', {
    fetch: dropping(drops),
    signal,
    totalTimeout: 60_000,
    resume: {
      attempts: drops,
      backoff: { initial: 0 },
      cursor: (row) => ({ searchParams: { after: String((row as { id: number }).id) } }),
    },
  })
  const rows = await Array.fromAsync(res.ndjson())
  expect(rows).toHaveLength((drops + 1) * RECORDS)
  expect(res.progress.attempt).toBe(drops + 1)
  return most
}

describe('a stream that reconnects many times', () => {
  it('gives no signal that lives as long as the stream to AbortSignal.any() on each reconnect', async () => {
    const few = await mostCallsPerSignal(5, new AbortController().signal)
    const many = await mostCallsPerSignal(25, new AbortController().signal)
    // The stream's own signals are combined when it opens, not once more for each reconnect.
    expect(many).toBe(few)
    expect(many).toBeLessThanOrEqual(2)
  })

  it("still ends a reconnect's request on the user's abort, while it waits for the headers", async () => {
    const user = new AbortController()
    let reconnects = 0
    const serve = dropping(1)
    const res = await sluice('https://fn.test/rows', {
      signal: user.signal,
      totalTimeout: 60_000,
      resume: {
        backoff: { initial: 0 },
        cursor: (row) => ({ searchParams: { after: String((row as { id: number }).id) } }),
      },
      fetch: async (input, init) => {
        if (new URL(input instanceof Request ? input.url : String(input)).searchParams.has('after')) {
          reconnects++
          const signal = input instanceof Request ? input.signal : init?.signal
          user.abort(new Error('leaving'))
          // Never answers: only the signal ends it.
          return new Promise<Response>((_, reject) => {
            signal?.addEventListener('abort', () => reject(signal.reason), { once: true })
          })
        }
        return serve(input, init)
      },
    })
    await expect(Array.fromAsync(res.ndjson())).rejects.toThrow('leaving')
    expect(reconnects).toBe(1)
  })

  it("still ends a reconnect's request on the total timeout, while it waits for the headers", async () => {
    const serve = dropping(1)
    let released: unknown
    const res = await sluice('https://fn.test/rows', {
      // Long enough for the first answer and its drop on a loaded machine: the reconnect alone waits it out.
      totalTimeout: 500,
      resume: {
        backoff: { initial: 0 },
        cursor: (row) => ({ searchParams: { after: String((row as { id: number }).id) } }),
      },
      fetch: async (input, init) => {
        if (!new URL(input instanceof Request ? input.url : String(input)).searchParams.has('after'))
          return serve(input, init)
        const signal = input instanceof Request ? input.signal : init?.signal
        // Never answers: only the signal ends it.
        return new Promise<Response>((_, reject) => {
          signal?.addEventListener(
            'abort',
            () => {
              released = signal.reason
              reject(signal.reason)
            },
            { once: true },
          )
        })
      },
    })
    const error = await Array.fromAsync(res.ndjson()).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase, String(error)).toBe('total')
    expect(isTimeoutError(released) && released.phase).toBe('total')
  })
})
