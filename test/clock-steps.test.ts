/**
 * The system clock stepped while a stream runs (NTP correcting it after a sleep, a VM's clock sync, a user setting
 * it right): sluice measures its intervals — progress reports and rate, the idle timeout, the store's and json()'s
 * throttles — on a monotonic clock, so a step changes none of them. The step here moves `Date.now` only (a spy:
 * `vi.setSystemTime` would miss a reference to the function taken before it).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { fromResponse, isTimeoutError } from '../src/index.ts'
import { mockStream } from '../src/mock/mock-stream.ts'
import { gatedBody } from './support/streams.ts'

const HOUR = 3_600_000
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))
/** Waits for `ok()`, up to `ms`; whether it came. */
async function within(ms: number, ok: () => boolean): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(10)) if (ok()) return true
  return ok()
}

let offset = 0
/** Steps the system clock by `ms`. */
const step = (ms: number) => {
  offset += ms
}
beforeEach(() => {
  offset = 0
  const real = Date.now
  vi.spyOn(Date, 'now').mockImplementation(() => real() + offset)
})
afterEach(() => {
  vi.restoreAllMocks()
})

describe('the system clock stepped while a stream runs', () => {
  it('set back an hour, onProgress still reports the bytes that come next within its interval', async () => {
    const body = gatedBody()
    const seen: number[] = []
    const res = await fromResponse(new Response(body.stream), {
      onProgress: (p) => seen.push(p.loaded),
      progressInterval: 50,
    })
    const chunks = res.bytes()[Symbol.asyncIterator]()
    body.push('aaaa')
    await chunks.next()
    expect(await within(2_000, () => seen.includes(4))).toBe(true)
    step(-HOUR)
    body.push('bbbb')
    await chunks.next()
    // Before: no report was due until the clock came back to where the last one was made, an hour on.
    expect(await within(1_000, () => seen.includes(8))).toBe(true)
    expect(res.progress.bytesPerSecond).toBeGreaterThan(0)
    await res.cancel()
  })

  it('set forward an hour during a silence shorter than idleTimeout, the stream is not timed out', async () => {
    const body = gatedBody()
    const res = await fromResponse(new Response(body.stream), { idleTimeout: 1_000 })
    const text = res.text()[Symbol.asyncIterator]()
    // The watchdog's first check is due 1 s after the first read began; its silence begins at 0.6 s.
    const first = text.next()
    await sleep(600)
    body.push('a')
    expect((await first).value).toBe('a')
    const second = text.next()
    step(HOUR)
    await sleep(600)
    body.push('b')
    // Before: the check at 1 s took the silence begun at 0.6 s for an hour long, and timed the stream out.
    const got = await second.catch((error: unknown) => error)
    expect(isTimeoutError(got) ? `timed out: ${got.message}` : got).toEqual({ done: false, value: 'b' })
    await res.cancel()
  })
})

describe('the system clock stepped under a mock paced by bytesPerSecond', () => {
  it('set back an hour, the body goes on at its pace', async () => {
    const reader = mockStream(['aaaaa', 'bbbbb'], { bytesPerSecond: 100 }).body!.getReader()
    await reader.read()
    step(-HOUR)
    let second: string | undefined
    void reader.read().then(({ value }) => {
      second = new TextDecoder().decode(value)
    })
    // Before: the second chunk, due 50 ms after the first, was due an hour on.
    expect(await within(2_000, () => second !== undefined)).toBe(true)
    expect(second).toBe('bbbbb')
    await reader.cancel()
  })
})
