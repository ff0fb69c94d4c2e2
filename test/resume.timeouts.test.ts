/**
 * Timeouts and retries of a resumed stream against a real server on 127.0.0.1: an idle stall is a drop, the
 * total timeout bounds reconnects too, attempts run out with the last error kept, and Retry-After is honoured.
 * Order and counts are asserted, never durations (gaps only as lower bounds that the server asked for).
 */
import { describe, expect, it } from 'vitest'
import { isResumeError, isTimeoutError, sluice } from '../src/index.ts'
import { encode } from './support/chunking.ts'
import { base64, FAST, scripted } from './support/scripted.ts'

const LINES = Array.from({ length: 8 }, (_, i) => `line ${i} — ${'ü'.repeat(i)}`)
const BODY = encode(`${LINES.join('\n')}\n`)
const events = (log: Array<{ event: string }>) => log.map((e) => e.event)

describe('idle timeout', () => {
  it('treats a stall as a drop: reconnects with Range and completes', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{ stall: 20 }] })
    const res = await sluice(s.url, { idleTimeout: 200, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const log = await s.log()
    expect(events(log)).toEqual(['request', 'stall', 'request', 'end'])
    expect(log[2]?.range).toBe('bytes=20-')
    expect(res.progress).toMatchObject({ loaded: BODY.length, attempt: 2, state: 'done' })
  })

  it("with resume off, a stall is a TimeoutError with phase 'idle'", async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{ stall: 20 }] })
    const res = await sluice(s.url, { idleTimeout: 100, resume: false })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('idle')
    expect((error as Error).message).toContain('enable `resume`')
    expect(events(await s.log())).toEqual(['request', 'stall'])
  })
})

describe('total timeout', () => {
  it("ends the stream with a TimeoutError, phase 'total', even while waiting to reconnect", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 20 }, { status: 503, headers: { 'retry-after': '3600' } }],
    })
    const res = await sluice(s.url, { totalTimeout: 1500, resume: { backoff: FAST } })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect(res.progress.state).toBe('error')
    // The hour-long Retry-After was cut short: no third request was made.
    expect(events(await s.log())).toEqual(['request', 'drop', 'request'])
  })

  it('is not a drop: a stream cut by it in the middle of its body makes no reconnect', async () => {
    const s = await scripted({ kind: 'range', body: base64(BODY), attempts: [{ stall: 20 }] })
    const states: string[] = []
    const res = await sluice(s.url, {
      totalTimeout: 1000,
      resume: { backoff: FAST },
      onProgress: (p) => states.push(p.state),
    })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
    expect(res.progress).toMatchObject({ state: 'error', attempt: 1, loaded: 20 })
    expect(states).not.toContain('reconnecting')
    expect(events(await s.log())).toEqual(['request', 'stall'])
  })

  it("ends a stream that keeps reconnecting with a TimeoutError, phase 'total'", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ stall: 10 }, { stall: 20 }, { stall: 30 }, { stall: 40 }, { stall: 50 }],
    })
    const res = await sluice(s.url, {
      idleTimeout: 100,
      totalTimeout: 250,
      resume: { backoff: FAST, attempts: 50 },
    })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isTimeoutError(error) && error.phase).toBe('total')
  })
})

describe('attempts', () => {
  it("gives up with ResumeError 'attempts-exhausted', the attempts made and the last error as cause", async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 10 }, { drop: 20 }, { drop: 30 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, attempts: 2 } })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(error).toMatchObject({ attempts: 2 })
    expect((error as Error).message).toMatch(/^Gave up after 2 reconnects to /)
    const cause = (error as Error).cause as Error
    expect(cause).toMatchObject({ name: 'NetworkError' })
    expect(cause.message).toContain('dropped after')
    expect(events(await s.log())).toEqual(['request', 'drop', 'request', 'drop', 'request', 'drop'])
  })

  it('keeps the last failed reconnect as the cause when the server keeps answering 503', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 10 }, { status: 503 }, { status: 503 }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST, attempts: 2 } })
    const error = await Array.fromAsync(res.lines()).catch((e: unknown) => e)
    expect(isResumeError(error) && error.reason).toBe('attempts-exhausted')
    expect(((error as Error).cause as Error).message).toContain('got status 503')
  })

  it('honours Retry-After on a 503 answer to a reconnect', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 10 }, { status: 503, headers: { 'retry-after': '1' } }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=10-', 'bytes=10-'])
    // The backoff asks for at most 5 ms; the gap is the server's second (a lower bound, never flaky).
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(1000)
  })

  it('honours a Retry-After in fractional seconds, as ky does, rather than asking again at once', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 10 }, { status: 503, headers: { 'retry-after': '1.5' } }],
    })
    const res = await sluice(s.url, { resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    const requests = (await s.log()).filter((e) => e.event === 'request')
    expect(requests.map((r) => r.range)).toEqual([null, 'bytes=10-', 'bytes=10-'])
    // Read as a date (Date.parse takes '1.5' for 5 January 2001), it was long past: no wait at all.
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(1500)
  })

  it('waits Retry-After for the attempt after the 503 only: a later failure backs off as usual', async () => {
    const s = await scripted({
      kind: 'range',
      body: base64(BODY),
      attempts: [{ drop: 10 }, { status: 503, headers: { 'retry-after': '2' } }],
    })
    const calls: number[] = []
    const flaky = ((input: RequestInfo | URL, init?: RequestInit) => {
      calls.push(Date.now())
      return calls.length === 3 ? Promise.reject(new TypeError('fetch failed')) : fetch(input, init)
    }) as typeof fetch
    const res = await sluice(s.url, { fetch: flaky, resume: { backoff: FAST } })
    expect(await Array.fromAsync(res.lines())).toEqual(LINES)
    expect(calls).toHaveLength(4)
    expect(calls[2]! - calls[1]!).toBeGreaterThanOrEqual(2000)
    // The backoff asks for at most 5 ms after the failed connection: the 503's 2 s are not waited again (the
    // bound leaves a loaded machine 1.5 s of slack).
    expect(calls[3]! - calls[2]!).toBeLessThan(1500)
  })
})
