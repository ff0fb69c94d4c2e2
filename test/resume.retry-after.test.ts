/**
 * A server's `Retry-After` is honoured however long it is: past the longest delay a timer can hold (about 24.8
 * days), a plain timer would fire at once — a retry storm where the server asked for quiet. It is read as seconds
 * (a fraction too, as ky reads it) or an HTTP date, always in GMT.
 */
import { afterEach, expect, it, vi } from 'vitest'
import { retryAfter, sleep } from '../src/core/resume/options.ts'
import { sluice } from '../src/index.ts'
import { droppedAfter, fetchWith } from './support/streams.ts'

afterEach(() => {
  vi.useRealTimers()
})

const DAY = 24 * 3600 * 1000

it('waits a delay longer than a timer can hold, in steps, instead of at once', async () => {
  vi.useFakeTimers()
  let done = false
  void sleep(30 * DAY, undefined).then(() => {
    done = true
  })
  await vi.advanceTimersByTimeAsync(1_000)
  expect(done).toBe(false)
  await vi.advanceTimersByTimeAsync(25 * DAY)
  expect(done).toBe(false)
  await vi.advanceTimersByTimeAsync(5 * DAY)
  expect(done).toBe(true)
})

it('stops a long wait when the signal aborts, with its reason', async () => {
  vi.useFakeTimers()
  const controller = new AbortController()
  const waiting = sleep(30 * DAY, controller.signal)
  await vi.advanceTimersByTimeAsync(26 * DAY)
  const reason = new Error('stopped')
  controller.abort(reason)
  await expect(waiting).rejects.toBe(reason)
  expect(vi.getTimerCount()).toBe(0)
})

it('rejects at once with the reason of a signal that aborted before the wait', async () => {
  vi.useFakeTimers()
  const reason = new Error('stopped before')
  const waiting = sleep(60_000, AbortSignal.abort(reason)).then(
    () => 'waited',
    (e: unknown) => e,
  )
  await vi.advanceTimersByTimeAsync(60_000)
  expect(await waiting).toBe(reason)
  expect(vi.getTimerCount()).toBe(0)
})

const after = (value: string, now: number): number | undefined =>
  retryAfter(new Headers({ 'retry-after': value }), now)

it('reads seconds with a fraction as ky does, not as a date in 2001 that would mean at once', () => {
  const now = Date.UTC(2026, 10, 30, 12)
  expect([after('1.5', now), after('0.5', now), after(' 2.25 ', now), after('3', now)]).toEqual([
    1500, 500, 2250, 3000,
  ])
})

it('takes an empty value, or one that is neither seconds nor a date, for none: the backoff applies', () => {
  const now = Date.UTC(2026, 10, 30, 12)
  expect([after('', now), after('soon', now), after('Infinity', now)]).toEqual([
    undefined,
    undefined,
    undefined,
  ])
})

it('takes a signed or exponent number, digits with junk or a date in no HTTP format for none, as Date.parse does not', () => {
  const now = Date.UTC(2026, 10, 30, 12)
  const junk = ['-1', '-5', '+5', '1e3', ' 12abc', '1.', '.5', '1.5.2', '12-', '1 2']
  const dates = ['2027-01-01', 'Tue 2027', '2027-01-01 08:00:00 GMT', 'Sun, 06 Nov 2044 08:49:37 +0100']
  const values = [...junk, ...dates]
  expect(values.map((value) => after(value, now))).toEqual(values.map(() => undefined))
})

it('reads the three HTTP date formats as GMT, the time left until then', () => {
  const now = Date.UTC(1994, 10, 6, 8, 49, 27)
  expect(after('Sun, 06 Nov 1994 08:49:37 GMT', now)).toBe(10_000)
  expect(after('Sunday, 06-Nov-94 08:49:37 GMT', now)).toBe(10_000)
  expect(after('Sun Nov  6 08:49:37 1994', now)).toBe(10_000)
  expect(after('Sun, 06 Nov 1994 08:49:17 GMT', now)).toBe(0)
})

/** Dates Date.parse reads (in V8) that are no HTTP-date: days and hours that do not exist, wrong names, case. */
const NOT_DATES = [
  'Mon, 31 Nov 2099 08:49:37 GMT',
  'Fri, 06 Nov 2099 24:00:00 GMT',
  'Foo, 06 Nov 2099 08:49:37 GMT',
  'fri, 06 nov 2099 08:49:37 gmt',
  'Fri, 6 Nov 2099 08:49:37 GMT',
  'Fri 2099-11-06 08:49:37 GMT',
  'Friday, 06-Nov-2099 08:49:37 GMT',
  'Fri Nov 6 08:49:37 2099',
]

it('takes a value shaped like a date that is no HTTP-date for none, as Date.parse does not', () => {
  const now = Date.UTC(2026, 10, 30, 12)
  expect(NOT_DATES.map((value) => after(value, now))).toEqual(NOT_DATES.map(() => undefined))
})

it('backs off as usual after a 503 whose Retry-After is no HTTP-date, rather than waiting until then', async () => {
  const body = new TextEncoder().encode('one\ntwo\nthree\n')
  for (const value of NOT_DATES) {
    const seen: Array<string | null> = []
    const fetch = fetchWith((request) => {
      seen.push(request.headers.get('range'))
      if (seen.length === 1)
        return new Response(droppedAfter(body, 6), { headers: { 'accept-ranges': 'bytes' } })
      if (seen.length === 2) return new Response('busy', { status: 503, headers: { 'retry-after': value } })
      return new Response(body.slice(6), {
        status: 206,
        headers: { 'content-range': `bytes 6-${body.length - 1}/${body.length}` },
      })
    })
    // Read as a date in 2099, the wait would outlast the total timeout: the stream would fail instead.
    const res = await sluice('https://files.example/lines.txt', {
      fetch,
      totalTimeout: 2000,
      resume: { backoff: { initial: 1, max: 2, jitter: 0 } },
    })
    expect(await Array.fromAsync(res.lines()), value).toEqual(['one', 'two', 'three'])
    expect(seen, value).toEqual([null, 'bytes=6-', 'bytes=6-'])
  }
})
