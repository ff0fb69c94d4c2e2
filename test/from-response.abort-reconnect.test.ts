/**
 * fromResponse() reconnects through the caller's own `request`. While a reconnect waits for its headers (a cold
 * start, a stuck function), the user's `signal` still cancels the whole logical stream, as it does for sluice():
 * the signal handed to `request` aborts with the user's reason, the iteration rejects with that reason at once
 * — even when `request` ignores its signal — and nothing is left listening on the user's signal afterwards.
 *
 * The first answer is range-resumable (Accept-Ranges, a Content-Length) and drops mid-body; the reconnect is
 * whatever each test makes of it.
 */
import { describe, expect, it } from 'vitest'
import {
  type FromResponseOptions,
  fromResponse,
  isNetworkError,
  isResumeError,
  type Progress,
  type ReRequest,
  sluice,
} from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { bodyOf, fetchWith, responseOf } from './support/streams.ts'

const URL_ = 'https://fn.example/report'
const BODY = '{"i":0}\n{"i":1}\n{"i":2}\n'
/** Inside the second record: one record is delivered before the drop. */
const CUT = BODY.indexOf('{"i":1}') + 3
const HEADERS = {
  'accept-ranges': 'bytes',
  'content-type': 'application/x-ndjson',
  'content-length': String(BODY.length),
}
const RESUME = { strategy: 'range', attempts: 3, backoff: FAST } as const

/** The first answer: the whole body, cut after `CUT` bytes by a network error. */
const dropping = (): Response =>
  responseOf([BODY.slice(0, CUT)], { headers: HEADERS, error: new TypeError('terminated') })

/** The rest of the body, from where a Range asks for it. */
function rest(headers: Record<string, string>): { response: Response; cancels: () => number } {
  const from = Number(/bytes=(\d+)-/.exec(headers.range ?? '')?.[1] ?? 0)
  const body = bodyOf([BODY.slice(from)])
  const response = new Response(body.stream, {
    status: 206,
    headers: { ...HEADERS, 'content-range': `bytes ${from}-${BODY.length - 1}/${BODY.length}` },
  })
  return { response, cancels: body.cancels }
}

/** Reads the records until the end or an error: what was delivered, and the error. */
async function drain(
  options: FromResponseOptions,
  during?: (seen: unknown[]) => void,
): Promise<{ items: unknown[]; error: unknown; states: Progress['state'][] }> {
  const states: Progress['state'][] = []
  const res = await fromResponse(dropping(), {
    url: URL_,
    resume: RESUME,
    onProgress: (p) => states.push(p.state),
    progressInterval: 0,
    ...options,
  })
  const items: unknown[] = []
  try {
    for await (const item of res.ndjson()) {
      items.push(item)
      during?.(items)
    }
    return { items, error: undefined, states }
  } catch (error) {
    return { items, error, states }
  }
}

/** A promise and its resolver, for a step the test takes when it chooses. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void
  const promise = new Promise<void>((resolve) => {
    open = resolve
  })
  return { promise, open }
}

/**
 * A signal whose `abort` listeners are counted as they are added and removed (a listener that fired is not
 * counted again: these tests never abort it).
 */
function countedSignal(): { signal: AbortSignal; listeners: () => number } {
  const { signal } = new AbortController()
  const live = new Set<unknown>()
  const add = signal.addEventListener.bind(signal)
  const remove = signal.removeEventListener.bind(signal)
  Object.assign(signal, {
    addEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: unknown) {
      if (type === 'abort') live.add(listener)
      add(type, listener, options as AddEventListenerOptions)
    },
    removeEventListener(type: string, listener: EventListenerOrEventListenerObject, options?: unknown) {
      if (type === 'abort') live.delete(listener)
      remove(type, listener, options as EventListenerOptions)
    },
  })
  return { signal, listeners: () => live.size }
}

describe("fromResponse(): the user's signal while a reconnect waits for its headers", () => {
  it("aborts the signal handed to `request` with the user's reason, and rejects the iteration with it", async () => {
    const user = new AbortController()
    const reason = new Error('the user left the page')
    let reconnectSignal: AbortSignal | undefined
    // A request that honours its signal, as fetch does; its headers take a second otherwise.
    let fallback: ReturnType<typeof setTimeout> | undefined
    const request: ReRequest = ({ signal, headers }) => {
      reconnectSignal = signal
      queueMicrotask(() => user.abort(reason))
      return new Promise((resolve, reject) => {
        fallback = setTimeout(() => resolve(rest(headers).response), 1_000)
        signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      })
    }
    const run = await drain({ signal: user.signal, request })
    clearTimeout(fallback)
    expect(run.error).toBe(reason)
    expect(run.items).toEqual([{ i: 0 }])
    expect(reconnectSignal?.aborted).toBe(true)
    expect(reconnectSignal?.reason).toBe(reason)
    expect(run.states.at(-1)).toBe('cancelled')
  })

  it("aborts the reconnect's signal when the user aborts while its body streams", async () => {
    const user = new AbortController()
    const reason = new Error('the user left the page')
    let reconnectSignal: AbortSignal | undefined
    const request: ReRequest = async ({ signal, headers }) => {
      reconnectSignal = signal
      return rest(headers).response
    }
    // The second record is the reconnect's first.
    const run = await drain({ signal: user.signal, request }, (items) => {
      if (items.length === 2) user.abort(reason)
    })
    expect(run.error).toBe(reason)
    expect(run.items).toEqual([{ i: 0 }, { i: 1 }])
    expect(reconnectSignal?.reason).toBe(reason)
  })

  it('rejects at once even when `request` ignores its signal; the answer that comes later is cancelled', async () => {
    const user = new AbortController()
    const reason = new Error('the user left the page')
    const late = gate()
    const order: string[] = []
    let answer: ReturnType<typeof rest> | undefined
    // A request that pays no attention to its signal: its headers come only when the test lets them.
    const request: ReRequest = async ({ headers }) => {
      queueMicrotask(() => user.abort(reason))
      await late.promise
      order.push('the reconnect answered')
      answer = rest(headers)
      return answer.response
    }
    const running = drain({ signal: user.signal, request }).then((run) => {
      order.push('the iteration ended')
      return run
    })
    // Without the abort being heard, only this answer would end the wait (and the stream would go on).
    const fallback = setTimeout(late.open, 1_000)
    const run = await running
    late.open()
    clearTimeout(fallback)
    await late.promise
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(run.error).toBe(reason)
    expect(run.items).toEqual([{ i: 0 }])
    expect(order).toEqual(['the iteration ended', 'the reconnect answered'])
    expect(answer?.cancels()).toBe(1)
  })

  it('res.cancel() ends an iteration whose reconnect ignores its signal, before that reconnect answers', async () => {
    const late = gate()
    const order: string[] = []
    let answer: ReturnType<typeof rest> | undefined
    let cancel: () => Promise<void> = async () => {}
    const request: ReRequest = async ({ headers }) => {
      queueMicrotask(() => void cancel())
      await late.promise
      order.push('the reconnect answered')
      answer = rest(headers)
      return answer.response
    }
    const res = await fromResponse(dropping(), { url: URL_, resume: RESUME, request })
    cancel = () => res.cancel('done with it')
    const items: unknown[] = []
    const fallback = setTimeout(late.open, 1_000)
    for await (const item of res.ndjson()) items.push(item)
    order.push('the iteration ended')
    late.open()
    clearTimeout(fallback)
    await late.promise
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(items).toEqual([{ i: 0 }])
    expect(order).toEqual(['the iteration ended', 'the reconnect answered'])
    expect(answer?.cancels()).toBe(1)
    expect(res.progress.state).toBe('cancelled')
  })
})

describe("fromResponse(): no listener is left on the user's signal", () => {
  it('after a stream that reconnected and ended', async () => {
    const { signal, listeners } = countedSignal()
    let during = -1
    const request: ReRequest = async ({ headers }) => {
      during = listeners()
      return rest(headers).response
    }
    const run = await drain({ signal, request })
    expect(run.error).toBeUndefined()
    expect(run.items).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    // While the reconnect waited, the stream listened (for the body, and for the reconnect's headers).
    expect(during).toBeGreaterThan(0)
    expect(listeners()).toBe(0)
  })

  it('after reconnects that all failed', async () => {
    const { signal, listeners } = countedSignal()
    const request: ReRequest = async () => {
      throw new TypeError('fetch failed')
    }
    const run = await drain({ signal, request })
    expect(run.error).toMatchObject({ name: 'ResumeError', reason: 'attempts-exhausted' })
    expect(listeners()).toBe(0)
  })

  it('after res.cancel() while a reconnect waited for its headers', async () => {
    const { signal, listeners } = countedSignal()
    let reconnectSignal: AbortSignal | undefined
    let cancel: () => Promise<void> = async () => {}
    const request: ReRequest = ({ signal: own }) => {
      reconnectSignal = own
      queueMicrotask(() => void cancel())
      return new Promise((_, reject) => {
        own.addEventListener('abort', () => reject(own.reason), { once: true })
      })
    }
    const res = await fromResponse(dropping(), { url: URL_, resume: RESUME, signal, request })
    cancel = () => res.cancel('done with it')
    const items: unknown[] = []
    for await (const item of res.ndjson()) items.push(item)
    expect(items).toEqual([{ i: 0 }])
    expect(reconnectSignal?.aborted).toBe(true)
    expect(listeners()).toBe(0)
  })
})

/**
 * A caller's own `request` (or `fetch`) that gives up with `AbortSignal.timeout()` rejects with a `TimeoutError`
 * DOMException: no answer in time, which asking again may get past, as ky's own timeout is (ky's
 * `isTimeoutError` knows it by name). The reconnect is asked again, up to `resume.attempts`.
 */
describe('a reconnect that timed out by the caller’s own AbortSignal.timeout()', () => {
  const timedOut = (): DOMException =>
    new DOMException('The operation was aborted due to timeout', 'TimeoutError')

  it('is asked again, and the stream completes', async () => {
    let calls = 0
    const request: ReRequest = async ({ headers }) => {
      calls++
      if (calls === 1) throw timedOut()
      return rest(headers).response
    }
    const { items, error } = await drain({ request })
    expect(error).toBeUndefined()
    expect(items).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    expect(calls).toBe(2)
  })

  it('ends, once resume.attempts are spent, as a reconnect that kept failing, with the timeout as the last cause', async () => {
    const { items, error } = await drain({
      request: async () => {
        throw timedOut()
      },
    })
    expect(items).toEqual([{ i: 0 }])
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    const last = (error as { cause?: unknown }).cause
    expect(isNetworkError(last) && (last.cause as Error).name).toBe('TimeoutError')
  })

  it('through sluice()’s `fetch` option too', async () => {
    let calls = 0
    const fetch = fetchWith((request) => {
      calls++
      if (calls === 1) return dropping()
      if (calls === 2) throw timedOut()
      return rest(Object.fromEntries(request.headers)).response
    })
    const res = await sluice(URL_, { fetch, resume: RESUME, retry: 0 })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    expect(calls).toBe(3)
  })
})
