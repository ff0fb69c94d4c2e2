/**
 * A caller's own `request` (fromResponse) or `fetch` that gives up with `AbortSignal.timeout()` rejects with a
 * `TimeoutError` DOMException: no answer in time, which asking again may get past, as ky's own timeout is. The
 * reconnect is asked again, up to `resume.attempts`, instead of ending the stream as an error that is not the
 * network's.
 */
import { describe, expect, it } from 'vitest'
import { fromResponse, isNetworkError, isResumeError, type ReRequest, sluice } from '../src/index.ts'
import { FAST } from './support/scripted.ts'
import { fetchWith, responseOf } from './support/streams.ts'

const BODY = '{"i":0}\n{"i":1}\n{"i":2}\n'
const CUT = BODY.indexOf('{"i":1}') + 3
const HEADERS = {
  'accept-ranges': 'bytes',
  'content-type': 'application/x-ndjson',
  'content-length': String(BODY.length),
}
const RESUME = { strategy: 'range', attempts: 3, backoff: FAST } as const

const dropping = (): Response =>
  responseOf([BODY.slice(0, CUT)], { headers: HEADERS, error: new TypeError('terminated') })
const rest = (): Response =>
  new Response(BODY.slice(CUT), {
    status: 206,
    headers: { ...HEADERS, 'content-range': `bytes ${CUT}-${BODY.length - 1}/${BODY.length}` },
  })
/** What `AbortSignal.timeout()` aborts a fetch with. */
const timedOut = (): DOMException =>
  new DOMException('The operation was aborted due to timeout', 'TimeoutError')

describe('a reconnect that timed out by the caller’s own AbortSignal.timeout()', () => {
  it('is asked again, and the stream completes', async () => {
    let calls = 0
    const request: ReRequest = async () => {
      calls++
      if (calls === 1) throw timedOut()
      return rest()
    }
    const res = await fromResponse(dropping(), { url: 'https://fn.example/r', resume: RESUME, request })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    expect(calls).toBe(2)
  })

  it('ends, once resume.attempts are spent, as a reconnect that kept failing, with the timeout as the last cause', async () => {
    const request: ReRequest = async () => {
      throw timedOut()
    }
    const res = await fromResponse(dropping(), { url: 'https://fn.example/r', resume: RESUME, request })
    const items: unknown[] = []
    const error = await (async () => {
      for await (const item of res.ndjson()) items.push(item)
    })().catch((e: unknown) => e)
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
      expect(request.headers.get('range')).toBe(`bytes=${CUT}-`)
      return rest()
    })
    const res = await sluice('https://fn.example/r', { fetch, resume: RESUME, retry: 0 })
    expect(await Array.fromAsync(res.ndjson())).toEqual([{ i: 0 }, { i: 1 }, { i: 2 }])
    expect(calls).toBe(3)
  })
})
